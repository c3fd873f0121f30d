"""Language identification that is cheap for the common case.

langdetect (a port of Google's language-detection, Shuyo 2010) costs one to three
milliseconds per text, a third of the whole tagging budget. Most comments are plainly
English, so a word check comes first: when at least half of the words are common English
words (function words, VADER's lexicon, taxonomy words) and nothing but Latin letters is
used, the text is English without asking langdetect. Only inconclusive texts go to
langdetect, seeded so the answer never changes between runs. Very short texts that
langdetect cannot place with confidence are marked ``und`` (undetermined) rather than
guessed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from langdetect import DetectorFactory, detect_langs
from langdetect.lang_detect_exception import LangDetectException

DetectorFactory.seed = 0

SUPPORTED_LANGUAGES = frozenset({"en"})
UNDETERMINED = "und"

# fmt: off
ENGLISH_FUNCTION_WORDS = frozenset(
    ["a", "about", "above", "after", "again", "against", "all", "am", "an", "and", "any", "are",
     "as", "at", "be", "because", "been", "before", "being", "below", "between", "both", "but",
     "by", "can", "could", "did", "do", "does", "doing", "down", "during", "each", "few", "for",
     "from", "further", "had", "has", "have", "having", "he", "her", "here", "hers", "him", "his",
     "how", "i", "if", "in", "into", "is", "it", "its", "itself", "just", "me", "more", "most",
     "my", "myself", "no", "nor", "not", "now", "of", "off", "on", "once", "only", "or", "other",
     "our", "ours", "out", "over", "own", "same", "she", "should", "so", "some", "such", "than",
     "that", "the", "their", "them", "then", "there", "these", "they", "this", "those", "through",
     "to", "too", "under", "until", "up", "very", "was", "we", "were", "what", "when", "where",
     "which", "while", "who", "whom", "why", "will", "with", "would", "you", "your", "yours",
     "yourself", "also", "ever", "got", "get", "gets", "really", "still", "even", "well", "back",
     "again", "didn't", "don't", "doesn't", "wasn't", "weren't", "isn't", "aren't", "can't",
     "couldn't", "won't", "i'm", "i've", "it's", "that's", "there's", "they're", "we're",
     "you're", "i'd", "i'll", "we've", "they've", "one", "two", "three", "time", "times", "day",
     "days", "week", "weeks", "minutes", "hours", "told", "said", "asked", "went", "came", "made",
     "make", "took", "take", "thank", "thanks", "please", "since", "every", "never", "always",
     "much", "many", "lot", "lots", "bit", "dont", "didnt", "doesnt", "wasnt", "werent", "isnt",
     "arent", "cant", "couldnt", "wont", "im", "ive", "youre", "theyre", "thats"]
)
# fmt: on

# Frequent function words of other languages that are not English words; one of them
# makes the cheap check inconclusive.
# fmt: off
_FOREIGN_WORDS = frozenset(
        ["der", "das", "und", "ist", "nicht", "ein", "eine", "einen", "mit", "sehr", "auch",
         "aber", "wir", "ich", "sie", "es", "zu", "den", "dem", "des", "war", "waren", "wurde",
         "hat", "haben", "kein", "keine", "nach", "bei", "von", "für", "über", "schlecht", "gut",
         "le", "les", "et", "est", "pas", "une", "des", "du", "au", "aux", "avec", "très", "mais",
         "nous", "je", "vous", "il", "elle", "ce", "cette", "sont", "était", "été", "pour",
         "dans", "sur", "qui", "que", "bien", "mal", "el", "los", "las", "y", "muy", "con", "por",
         "para", "pero", "fue", "es", "lo", "una", "del", "al", "mucho", "nada", "bueno", "malo",
         "il", "lo", "gli", "che", "non", "di", "della", "molto", "ma", "sono", "è", "per",
         "questo", "het", "een", "niet", "en", "zijn", "wij", "ik", "heel", "maar", "voor", "op",
         "te", "dat", "geen", "o", "os", "um", "uma", "não", "com", "muito", "mas", "foi", "está",
         "og", "ikke", "jeg", "det", "er", "var", "som", "på", "til"]
)
# fmt: on
FOREIGN_FUNCTION_WORDS = _FOREIGN_WORDS - ENGLISH_FUNCTION_WORDS

_LETTER_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")


@dataclass(frozen=True)
class LanguageGuess:
    language: str
    supported: bool
    detector: str  # "words" when the cheap check decided, "langdetect" otherwise


class LanguageIdentifier:
    """Decides a comment's language; ``vocabulary`` adds known English words."""

    def __init__(self, vocabulary: Iterable[str] = ()):
        self.english = frozenset(ENGLISH_FUNCTION_WORDS) | {
            w.lower() for w in vocabulary if w.isalpha()
        }

    def identify(self, text: str) -> LanguageGuess:
        words = [w.lower() for w in _LETTER_WORD.findall(text)]
        if not words:
            # Only numbers, emoticons or punctuation: nothing language-specific to misread.
            return LanguageGuess(UNDETERMINED, True, "words")
        ascii_only = all(w.isascii() for w in words)
        known = sum(1 for w in words if w in self.english)
        share = known / len(words)
        foreign = sum(1 for w in words if w in FOREIGN_FUNCTION_WORDS)
        mostly_ascii = sum(1 for w in words if w.isascii()) >= 0.8 * len(words)
        if (
            foreign == 0
            and mostly_ascii
            and (
                (share >= 0.5 and (known >= 2 or len(words) <= 2)) or (share >= 0.3 and known >= 3)
            )
        ):
            return LanguageGuess("en", True, "words")
        return self._langdetect(text, words, share, ascii_only)

    def _langdetect(
        self, text: str, words: list[str], share: float, ascii_only: bool
    ) -> LanguageGuess:
        try:
            candidates = detect_langs(text)
        except LangDetectException:
            candidates = []
        if candidates:
            best = candidates[0]
            language = str(best.lang).split("-")[0]
            confident = best.prob >= 0.8 and (len(words) >= 3 or best.prob >= 0.95)
            if language == "en" and (confident or (ascii_only and share >= 0.3)):
                return LanguageGuess("en", True, "langdetect")
            if confident and share < 0.5:
                return LanguageGuess(language, language in SUPPORTED_LANGUAGES, "langdetect")
        if ascii_only and share >= 0.3:
            return LanguageGuess("en", True, "langdetect")
        return LanguageGuess(UNDETERMINED, False, "langdetect")
