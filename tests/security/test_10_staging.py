"""#10: a crash between staging and rename in `corpus add` left a .tmp folder, and every later add
failed with a misleading message."""

import os
import time

from assistant.config import Config
from assistant.corpus import load_corpus
from assistant.ingest import add_document, clean_staging, stage_document
from helpers import FIXTURE


def test_a_crashed_add_leaves_nothing_that_breaks_the_next_one(tmp_path):
    cfg = Config(home=tmp_path)
    staged = stage_document(cfg, FIXTURE, "基準", version="fx1")  # …and the process dies before publishing
    leftover = staged.folder
    past = time.time() - 2 * 3600
    os.utime(leftover, (past, past))
    assert "基準" not in load_corpus(cfg.corpus_dirs).docs  # a staged document is never used
    report = add_document(cfg, FIXTURE, "基準", version="fx1")  # the next add works…
    assert report.doc == "基準" and not os.path.exists(leftover)  # …and the leftover is gone
    assert load_corpus(cfg.corpus_dirs).docs["基準"].manifest.version == "fx1"


def test_staging_left_by_a_running_add_is_not_touched(tmp_path):
    cfg = Config(home=tmp_path)
    staged = stage_document(cfg, FIXTURE, "基準", version="fx1")
    assert clean_staging(cfg) == [] and os.path.exists(staged.folder)
