"""Conversational triage: find the information that must be protected, then the cheapest measures."""

from .flow import Flow, Question, TriageError, TriageState, answer, back, next_question, progress
from .result import build_result, load_answers, state_from_answers

__all__ = [
    "Flow", "Question", "TriageError", "TriageState", "answer", "back", "next_question", "progress",
    "build_result", "load_answers", "state_from_answers",
]
