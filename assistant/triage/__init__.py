"""Conversational triage: find the information that must be protected, then a first plan."""

from .flow import Flow, Question, TriageError, TriageState, answer, back, next_question, progress, questions_asked, remaining
from .model import TriageResult
from .result import build_result, load_answers, state_from_answers

__all__ = [
    "Flow", "Question", "TriageError", "TriageResult", "TriageState", "answer", "back", "next_question", "progress",
    "questions_asked", "remaining", "build_result", "load_answers", "state_from_answers",
]
