"""The words that steer a diagnosis, in one place: the labels of the page's buttons and the chat's
quick replies, and what a user may type instead (the CLI's prompt, a typed chat reply)."""

from .rules import UNKNOWN

BACK_LABEL = "戻る"
BACK_WORDS = (BACK_LABEL, "back")  # typed: go back one question
QUIT_LABEL = "中断"
QUIT_WORDS = (QUIT_LABEL, "quit")  # typed in the CLI: save and stop

__all__ = ["BACK_LABEL", "BACK_WORDS", "QUIT_LABEL", "QUIT_WORDS", "UNKNOWN"]
