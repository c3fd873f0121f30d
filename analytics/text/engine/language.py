"""Language identification that is cheap for the common case.

langdetect (a port of Google's language-detection, Shuyo 2010) costs one to three
milliseconds per text, a third of the whole tagging budget. Most comments are plainly
English, so a word check comes first: when at least half of the words are common English
words (function words, VADER's lexicon, taxonomy words) and no frequent word of another
language occurs, the text is English without further work. Only inconclusive texts go to
the n-gram model: langdetect's own character n-gram profiles (55 languages, shipped in the
package), scored as a plain naive Bayes sum of smoothed log probabilities over all n-grams of
the text. That is what langdetect approximates by random sampling over seven trials; the
full sum is deterministic and several times faster. Very short texts that cannot be placed
with confidence are marked ``und`` (undetermined) rather than guessed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from langdetect import DetectorFactory, detector_factory
from langdetect.lang_detect_exception import LangDetectException

DetectorFactory.seed = 0  # only matters if langdetect's own sampling detector is used

MAX_NGRAMS = 600
# langdetect's smoothing: alpha / base frequency added to every n-gram probability.
_SMOOTHING = 0.5 / 10_000

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

_ASCII_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
_LETTER_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")


@dataclass(frozen=True)
class LanguageGuess:
    language: str
    supported: bool
    detector: str  # "words" when the cheap check decided, "ngrams" otherwise


class LanguageIdentifier:
    """Decides a comment's language; ``vocabulary`` adds known English words."""

    def __init__(self, vocabulary: Iterable[str] = ()):
        self.english = frozenset(ENGLISH_FUNCTION_WORDS) | {
            w.lower() for w in vocabulary if w.isalpha()
        }

    def identify(self, text: str) -> LanguageGuess:
        if text.isascii():
            words = _ASCII_WORD.findall(text.lower())
            ascii_words = len(words)
        else:
            words = _LETTER_WORD.findall(text.lower())
            ascii_words = sum(1 for w in words if w.isascii())
        if not words:
            # Only numbers, emoticons or punctuation: nothing language-specific to misread.
            return LanguageGuess(UNDETERMINED, True, "words")
        english = self.english
        known = foreign = 0
        for word in words:
            if word in english:
                known += 1
            elif word in FOREIGN_FUNCTION_WORDS:
                foreign += 1
        ascii_only = ascii_words == len(words)
        share = known / len(words)
        mostly_ascii = ascii_words >= 0.8 * len(words)
        if (
            foreign == 0
            and mostly_ascii
            and (
                (share >= 0.5 and (known >= 2 or len(words) <= 2)) or (share >= 0.3 and known >= 3)
            )
        ):
            return LanguageGuess("en", True, "words")
        return self._ngrams(text, words, share, ascii_only)

    def _ngrams(self, text: str, words: list[str], share: float, ascii_only: bool) -> LanguageGuess:
        ranked = ngram_language_scores(text)
        if ranked:
            language, probability = ranked[0]
            language = language.split("-")[0]
            confident = probability >= 0.8 and (len(words) >= 3 or probability >= 0.95)
            if language == "en" and (confident or (ascii_only and share >= 0.3)):
                return LanguageGuess("en", True, "ngrams")
            if confident and share < 0.5:
                return LanguageGuess(language, language in SUPPORTED_LANGUAGES, "ngrams")
        if ascii_only and share >= 0.3:
            return LanguageGuess("en", True, "ngrams")
        return LanguageGuess(UNDETERMINED, False, "ngrams")


@lru_cache(maxsize=100_000)
def _log_probabilities(gram: str) -> np.ndarray:
    factory = detector_factory._factory
    assert factory is not None
    return np.log(np.asarray(factory.word_lang_prob_map[gram], dtype=float) + _SMOOTHING)


def ngram_language_scores(text: str) -> list[tuple[str, float]]:
    """Languages ranked by naive Bayes posterior over langdetect's n-gram profiles."""
    detector_factory.init_factory()
    factory = detector_factory._factory
    assert factory is not None
    detector = factory.create()
    detector.append(text)
    detector.cleaning_text()
    try:
        ngrams = detector._extract_ngrams()
    except LangDetectException:
        return []
    if not ngrams:
        return []
    log_likelihood = np.sum([_log_probabilities(gram) for gram in ngrams[:MAX_NGRAMS]], axis=0)
    posterior = np.exp(log_likelihood - log_likelihood.max())
    posterior /= posterior.sum()
    order = np.argsort(-posterior)[:3]
    return [(str(factory.langlist[i]), float(posterior[i])) for i in order]
