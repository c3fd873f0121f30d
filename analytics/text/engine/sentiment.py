"""Comment and aspect sentiment: VADER with a customer-experience lexicon and phrase rules.

VADER (Hutto & Gilbert, ICWSM 2014) scores each word from its bundled lexicon, adjusted
for negation, boosters, capitals and "but", then squashes the sum into −1..1 with
``x / sqrt(x² + 15)``. CXHub keeps that machinery and adds what customer comments need:

* a domain lexicon: words that carry clear sentiment in service feedback but are missing
  from VADER's general lexicon ("overcharged", "bland", "unhelpful", "outage", …);
* phrase rules for what customers say about effort and waiting ("on hold for 40 minutes",
  "still waiting", "never arrived", "took ages"), which no single word carries;
* per-clause scores for aspect sentiment: a sentence is scored once, word by word, and a
  topic mention takes the sum of the words in its own clause (split at "but", "however",
  "although", ";" and commas), so "the staff were lovely but the wait was awful" gives
  staff a positive and wait a negative score.

Every addition was kept only if it raised agreement on the development halves of the
labelled sets; the held-out halves are reported in docs/text-analytics.md.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from dataclasses import dataclass, field
from operator import attrgetter

from vaderSentiment.vaderSentiment import BOOSTER_DICT as _BOOSTERS
from vaderSentiment.vaderSentiment import (
    C_INCR,
    N_SCALAR,
    NEGATE,
    SPECIAL_CASES,
    SentimentIntensityAnalyzer,
)

from analytics.text.engine.sentences import split_sentences

POSITIVE_THRESHOLD = 0.05
NEGATIVE_THRESHOLD = -0.05
ALPHA = 15.0

# Words with a clear valence in service feedback, on VADER's −4..4 scale.
DOMAIN_LEXICON: dict[str, float] = {
    # money
    "overcharged": -2.2,
    "overcharge": -2.0,
    "overcharging": -2.2,
    "overpriced": -1.9,
    "ripoff": -2.5,
    "rip-off": -2.5,
    "pricey": -0.8,
    "affordable": 1.3,
    "bargain": 1.5,
    "extortionate": -2.4,
    "hidden": -0.6,
    "refunded": 0.8,
    # food
    "bland": -1.6,
    "tasteless": -1.9,
    "flavorless": -1.9,
    "flavourless": -1.9,
    "stale": -1.6,
    "soggy": -1.5,
    "greasy": -1.2,
    "undercooked": -1.8,
    "overcooked": -1.6,
    "lukewarm": -1.2,
    "inedible": -2.5,
    "tasty": 2.0,
    "flavorful": 1.9,
    "flavourful": 1.9,
    "tender": 1.2,
    "juicy": 1.2,
    "crispy": 0.9,
    "mediocre": -1.3,
    "overrated": -1.5,
    "underwhelming": -1.6,
    "gross": -2.1,
    "yum": 2.0,
    "disgusting": -2.6,
    # service and effort
    "slow": -1.3,
    "slowest": -2.0,
    "sluggish": -1.3,
    "quick": 1.0,
    "quickly": 0.9,
    "prompt": 1.2,
    "promptly": 1.2,
    "speedy": 1.4,
    "efficient": 1.8,
    "inefficient": -1.6,
    "unhelpful": -1.9,
    "knowledgeable": 1.8,
    "attentive": 1.8,
    "inattentive": -1.6,
    "professional": 1.2,
    "unresponsive": -1.7,
    "unanswered": -1.2,
    "hassle": -1.5,
    "seamless": 1.8,
    "effortless": 1.8,
    "painless": 1.3,
    "smooth": 1.0,
    "unreliable": -1.8,
    "reliable": 1.4,
    "incorrect": -1.2,
    "wrong": -1.5,
    "nightmare": -2.5,
    "shambles": -2.3,
    "chaotic": -1.5,
    "apologetic": 0.8,
    "informative": 1.2,
    "spotless": 2.0,
    "filthy": -2.3,
    "sticky": -0.8,
    "smelly": -1.6,
    "cramped": -1.1,
    "outage": -1.7,
    "outages": -1.7,
    "faulty": -1.6,
    "buggy": -1.6,
    "glitchy": -1.6,
    "crashes": -1.6,
    "crashed": -1.6,
    "laggy": -1.4,
    "delayed": -1.2,
    "late": -0.9,
    "overdue": -1.0,
    "unprofessional": -2.3,
    "recommended": 1.5,
    "disappointing": -2.2,
    "meh": -0.8,
    "ok": 0.3,
    "okay": 0.3,
    "forgot": -1.0,
    "forgotten": -1.0,
    "lost": -1.1,
    "missing": -1.0,
    "worst": -3.1,
    "impossible": -1.5,
    "clunky": -1.3,
    "judged": -1.2,
    "chasing": -1.0,
    "nobody": -0.8,
    "noone": -0.8,
    "unable": -1.0,
    "pending": -0.5,
    "absurd": -1.8,
    "joke": -1.5,
    "robbery": -2.0,
    "decent": 1.0,
    "star": 1.2,
    "stars": 0.8,
    "shrugged": -1.0,
    "pushy": -1.5,
    # "like" compares more often than it praises in feedback ("tasted like a jar", "would
    # like to know"); "please" opens requests, not praise.
    "like": 0.5,
    "please": 0.0,
    "fast": 1.0,
    "polite": 1.5,
    "impolite": -1.5,
    "explained": 0.8,
    "non-existent": -1.8,
    "nonexistent": -1.8,
    "breaks": -1.2,
    "lacked": -1.3,
    "lacking": -1.3,
    "lacks": -1.3,
    "dry": -0.8,
    "reheated": -1.0,
    "over-priced": -1.9,
}

# "pretty" is mostly a degree word in feedback ("pretty gross", "pretty slow"); VADER's
# lexicon scores it as the adjective (+2.2), which flips such comments.
DOMAIN_REMOVED = ("pretty",)

# fmt: off
NEGATORS = frozenset(
    ["not", "no", "never", "n't", "nothing", "nobody", "none", "nor", "neither", "without",
     "isn't", "wasn't", "aren't", "weren't", "don't", "didn't", "doesn't", "can't", "couldn't",
     "won't", "wouldn't", "hardly", "barely", "cannot", "isnt", "wasnt", "dont", "didnt",
     "doesnt", "cant", "couldnt", "wont", "wouldnt"]
)
# fmt: on

# Phrases whose meaning no single word carries, with a valence on VADER's scale.
PHRASE_RULES: list[tuple[str, float]] = [
    (
        r"\bstill (?:waiting|not|no|being|receiving|getting|have not|haven't|has not|hasn't|pending|open|broken|charging)\b",
        -1.8,
    ),
    (r"\bbeen waiting\b", -1.6),
    (r"\bon hold (?:for|forever)\b|\bhold times\b", -1.6),
    (
        r"\b(?:took|take|takes|taking|waited|wait(?:ed)? for|queued(?: for)?) (?:ages|forever|hours|an hour|over an hour|so long|too long|a week|a month|weeks|months)\b",
        -2.0,
    ),
    (
        r"\b(?:waited|wait|waiting|wait(?:ed)? for|queued(?: for)?|on hold for|took|took over|after) (?:\d{2,}|twenty|thirty|forty|fifty|sixty|ninety|45) ?(?:min|mins|minutes)\b",
        -1.8,
    ),
    (
        r"\b(?:waited|wait(?:ed)? for|queued(?: for)?|on hold for|took) (?:\d+|two|three|four|five|six) ?(?:hours?|hrs?|days|weeks)\b",
        -2.0,
    ),
    (
        r"\b(?:over|more than|nearly|almost) (?:an|one|two|three) hours?\b|\ban hour and a half\b",
        -1.5,
    ),
    (r"\b(?:long|endless|lengthy) (?:wait|waits|queue|queues|delay|delays|hold)\b", -1.6),
    (r"\b(?:wait|queue|hold) (?:was|is|were) (?:long|ridiculous|endless)\b", -1.6),
    (r"\b(?:queue|line) (?:was )?(?:out the door|round the block)\b", -1.6),
    (
        r"\bnever (?:arrived|arrives|came|turned up|showed up|called back|got back|heard back|received|replied|responded|answered|works|worked|sent|returned)\b",
        -2.2,
    ),
    (
        r"\b(?:no one|nobody|noone) (?:called|got back|answered|replied|responded|came|could help|helped|seemed to care|can tell|has explained|let me know|told me|returns my calls|turned up)\b",
        -2.0,
    ),
    (
        r"\bno (?:update|updates|reply|response|information|announcement|record|explanation|way to|letter|email|call|contact|warning|signal|service|internet|power|water|point|coverage|connection)\b",
        -1.4,
    ),
    (r"\bwithout (?:asking|explanation|warning|notice|my consent|permission)\b", -1.3),
    (r"\b(?:got|getting|gone|went) nowhere\b", -1.8),
    (r"\b(?:passed|pushed|bounced) (?:around|from pillar to post)\b", -1.6),
    (
        r"\b(?:food|meal|it|fries|pizza|coffee|soup|steak|burger|dish|plate) (?:was|were|came out|arrived) (?:stone |ice |very |a bit |quite )?(?:cold|lukewarm)\b",
        -1.8,
    ),
    (r"\bnot worth\b", -1.8),
    (r"\bnever\b(?: \w+){0,6} again\b", -2.0),
    (r"\b(?:can't|cannot|can not|cant) wait\b", 2.0),
    (
        r"\b(?:can't|cannot|cant) (?:say enough good|beat|fault|recommend (?:it|them|this place) enough)\b",
        2.2,
    ),
    (r"\b(?:never had anything|nothing|never anything) to complain about\b", 1.8),
    (r"\bto die for\b", 2.5),
    (r"\bleaves? (?:a lot|much|something) to be desired\b", -2.0),
    (r"\b(?:zero|0|one|1|two|2) stars?\b", -1.8),
    (r"\b(?:five|5|ten|10) stars\b", 1.8),
    (r"\bat best\b", -1.5),
    (r"\b(?:don't|do not) waste (?:your|my|our) (?:money|time)\b", -2.2),
    (
        r"\b(?:didn't|did not|no need to|never had to|don't|do not) (?:have to |need to )?wait\b",
        1.6,
    ),
    (
        r"\b(?:stood|standing|sat|sitting|left)(?: \w+){0,4} for (?:\d+|ten|fifteen|twenty|thirty|forty|an?) ?(?:min|mins|minutes|hours?)\b",
        -1.5,
    ),
    (r"\bout of this world\b", 2.5),
    (r"\brolled (?:her|his|their) eyes\b", -1.8),
    (
        r"\b(?:hair|fly|bug|insect|glass|plastic) in (?:my|the|our|his|her) (?:food|soup|meal|drink|salad|dish|plate|pizza|burger)\b",
        -2.0,
    ),
    (r"\b(?:did not|didn't|does not|doesn't|do not|don't) (?:understand|listen|care|know)\b", -1.5),
    (r"\b(?:three|four|five|six|several|multiple|\d+) times\b", -1.0),
    (r"\band counting\b", -1.5),
    (r"\bout the door\b", -1.2),
    (r"\ball over the place\b", -1.5),
    (r"\b(?:was|were) supposed to\b", -1.2),
    (
        r"\b(?:something|told me something) different\b|\bdifferent (?:answers|story|stories)\b",
        -1.2,
    ),
    (r"\bworth every penny\b", 2.2),
    (r"\bwaste of (?:time|money)\b", -2.2),
    (r"\b(?:went|going|go) (?:above and beyond|the extra mile)\b", 2.4),
    (
        r"\b(?:sorted|fixed|resolved|solved) (?:it |everything |the (?:issue|problem) )?(?:quickly|straight away|first time|immediately|in minutes|right away)\b",
        2.0,
    ),
    (r"\bno (?:issues|problems|hassle|complaints|fuss)\b", 1.5),
    (r"\b(?:could ?n't|could not|can't|cannot) (?:be happier|have been happier|fault)\b", 2.4),
    (r"\b(?:right |bang |spot )?on time\b", 1.2),
    (r"\b(?:kept|keep|keeps) (?:me|us) (?:informed|updated|posted)\b", 1.6),
    (
        r"\b(?:will|would) (?:definitely |certainly )?(?:not|never) (?:be )?(?:back|return|come back|go back|recommend|use (?:them|it) again)\b",
        -2.3,
    ),
    (r"\b(?:won't|wont|will not) be (?:back|returning|coming back|revisiting)\b", -2.3),
    (
        r"\b(?:will|would|i'll|we'll) (?:definitely |certainly |surely )?(?:be back|return|come back|go back)\b",
        1.8,
    ),
    (r"\bcharged twice\b|\bdouble charged\b|\btaken twice\b|\bbooked twice\b", -2.2),
    (r"\bcosts? (?:a fortune|an arm and a leg)\b", -1.8),
    (r"\blocked out\b", -1.5),
    (
        r"\b(?:cannot|can't|could not|couldn't|unable to) (?:log ?in|sign in|access|get through|pay|reach|contact|get an?)\b",
        -1.5,
    ),
    (r"\bcut (?:me )?off\b", -1.4),
    (r"\bdropped (?:calls?|out)\b|\bkeeps? dropping\b|\bdrops? out\b", -1.5),
    (r"\btoo (?:long|slow|expensive|salty|sweet|greasy|loud|noisy|small|much|short)\b", -1.5),
    (
        r"\b(?:not|never|\w+n't) (?:been |even )?(?:accepted|repaired|fixed|resolved|sent|delivered|working|cooked|warm|hot|fresh|clean|ready|refunded|processed)\b",
        -1.6,
    ),
    (r"\bdid(?:n't| not) (?:work|arrive|turn up|show up|show|fix|resolve|bother)\b", -1.7),
    (
        r"\b(?:could|can|would|will)(?:n't|not| not) (?:fix|help|resolve|sort|solve|explain|find|refund|return|exchange|accept|pay)\b",
        -1.6,
    ),
    (r"\b(?:does|do)(?:n't| not) work\b|\bstopped working\b", -1.8),
]
# fmt: off
_TRIGGER_STOPWORDS = frozenset(
    ["the", "a", "an", "it", "was", "were", "is", "be", "been", "i", "me", "my", "of", "for",
     "to", "and", "or", "not", "no", "will", "would", "did", "do", "does", "too", "so", "very",
     "quite", "bit", "even", "out", "up", "off", "on", "in", "at", "have", "has", "had", "could",
     "can", "n't", "won't", "wont", "we", "ll"]
)
# fmt: on


def _compile_rules() -> list[tuple[frozenset[str], re.Pattern[str], float]]:
    """Each rule with the content words that must occur for it to match at all.

    Checking those words against the sentence's words first means a sentence runs only the
    one or two rules that could match, not all of them.
    """
    compiled = []
    for pattern, valence in PHRASE_RULES:
        words = {w for w in re.findall(r"[a-z']+", pattern.replace("\\b", " ")) if len(w) > 1}
        triggers = frozenset(words - _TRIGGER_STOPWORDS)
        compiled.append((triggers, re.compile(pattern), valence))
    return compiled


_RULES = _compile_rules()
# Trigger word -> indexes of the rules it can start, so a sentence looks up its own words.
_RULES_BY_TRIGGER: dict[str, list[int]] = {}
for _index, _rule in enumerate(_RULES):
    for _word in _rule[0]:
        _RULES_BY_TRIGGER.setdefault(_word, []).append(_index)

# Words that open a new clause for aspect sentiment and shift weight like VADER's "but".
CONTRAST_WORDS = frozenset({"but", "however", "although", "though", "whereas", "except", "yet"})
_TOKEN_RE = re.compile(r"\S+")
_STRIP = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"  # string.punctuation, as VADER strips it
_DASHES = frozenset({"-", "–", "—"})
_VADER_NEGATIONS = frozenset(NEGATE)
# Every word of VADER's multi-word special cases and booster phrases ("kind of", "the bomb"):
# a lexicon word with none of them next to it skips VADER's idiom check.
_IDIOM_WORDS = frozenset(
    word for phrase in (*SPECIAL_CASES, *_BOOSTERS) if " " in phrase for word in phrase.split()
)
_TOKEN_CACHE_MAX = 200_000
_WORD = attrgetter("word")
_LOWER = attrgetter("lower")
_BARE = attrgetter("bare")
_UPPER = attrgetter("upper")
_SCORED = attrgetter("scored")
_STRUCTURAL = attrgetter("structural")


def normalize(score: float) -> float:
    """VADER's squashing of a summed valence into −1..1."""
    return score / math.sqrt(score * score + ALPHA)


def label_for(score: float | None) -> str | None:
    if score is None:
        return None
    if score >= POSITIVE_THRESHOLD:
        return "positive"
    if score <= NEGATIVE_THRESHOLD:
        return "negative"
    return "neutral"


def _group_totals(valences: list[float], groups: list[int]) -> dict[int, float]:
    """The sum of the valences of each group, each summed in token order with ``sum``."""
    members: dict[int, list[float]] = {}
    for value, group in zip(valences, groups, strict=True):
        bucket = members.get(group)
        if bucket is None:
            members[group] = [value]
        else:
            bucket.append(value)
    return {group: sum(values) for group, values in members.items()}


@dataclass
class ScoredSentence:
    """One sentence's word-level valences, aligned with its whitespace tokens."""

    text: str
    token_starts: list[int]
    valences: list[float]
    clause_of_token: list[int]
    segment_of_token: list[int]
    weighted_sum: float
    # Per segment and per clause valence sums, computed on the first aspect question.
    _segment_totals: dict[int, float] | None = field(
        default=None, init=False, repr=False, compare=False
    )
    _clause_totals: dict[int, float] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def token_index(self, offset: int) -> int:
        """The index of the token that contains character ``offset`` of the sentence."""
        return max(bisect_right(self.token_starts, offset) - 1, 0)

    def _totals(self) -> tuple[dict[int, float], dict[int, float]]:
        if self._segment_totals is None:
            self._segment_totals = _group_totals(self.valences, self.segment_of_token)
            self._clause_totals = _group_totals(self.valences, self.clause_of_token)
        return self._segment_totals, self._clause_totals

    def aspect_score(self, offset: int) -> float:
        """The sentiment of the words around ``offset``: its segment, else clause, else sentence."""
        if not self.valences:
            return 0.0
        index = self.token_index(offset)
        segments, clauses = self._totals()
        total = segments[self.segment_of_token[index]]
        if total == 0:
            total = clauses[self.clause_of_token[index]]
        if total == 0:
            total = self.weighted_sum
        return normalize(total) if total else 0.0

    def local_score(self, offset: int) -> float:
        """The sentiment of the words around ``offset`` only: its segment, else its clause,
        and 0 when neither holds a word with a valence.

        Unlike ``aspect_score`` it never falls back to the whole sentence, so in "I got
        through in under a minute, although the advisor was rude" the wait is not read as
        a complaint: what a quote is chosen by (``SentimentScorer.span_sentiment``).
        """
        if not self.valences:
            return 0.0
        index = self.token_index(offset)
        segments, clauses = self._totals()
        total = segments[self.segment_of_token[index]]
        if total:
            return normalize(total)
        total = clauses[self.clause_of_token[index]]
        if total:
            return normalize(total)
        return 0.0


def _negated(words: list[str], index: int, clause_ends: list[bool]) -> bool:
    """Whether one of the three words before ``index`` negates it, within the same clause."""
    for i in range(index - 1, max(-1, index - 4), -1):
        word = words[i]
        if word in CONTRAST_WORDS or clause_ends[i]:
            return False
        if word in NEGATORS or word.endswith("n't"):
            return True
    return False


class _Token:
    """What scoring needs to know of one whitespace token, whatever its neighbours.

    ``word`` is VADER's token (punctuation stripped unless that leaves two characters or
    fewer, so emoticons stay), ``lower`` its lower case, ``bare`` the lower case stripped
    of punctuation (what negation, contrast and phrase triggers look at).
    """

    __slots__ = ("bare", "clause_break", "contrast", "ends_clause", "lower", "scored", "segment_break", "structural", "triggers", "upper", "word")  # fmt: skip

    def __init__(self, raw: str, lexicon: dict[str, float]):
        stripped = raw.strip(_STRIP)
        self.word = raw if len(stripped) <= 2 else stripped
        self.lower = self.word.lower()
        self.bare = self.lower.strip(_STRIP)
        self.upper = self.word.isupper()
        # VADER gives words outside its lexicon and booster words no valence of their own
        # (they only modify neighbours), so the valence rules run only for the others.
        self.scored = self.lower in lexicon and self.lower not in _BOOSTERS
        self.contrast = self.bare in CONTRAST_WORDS
        self.ends_clause = raw.endswith((",", ";", ":"))
        self.segment_break = self.ends_clause or raw in _DASHES
        self.clause_break = raw.endswith(";")
        # Whether it can open a clause or a segment (else a sentence is one of each).
        self.structural = self.contrast or self.segment_break
        # The phrase rules this word can trigger.
        self.triggers = tuple(_RULES_BY_TRIGGER.get(self.bare, ()))


def _word_valence(
    lexicon: dict[str, float], words: list[str], lowers: list[str], i: int, is_cap_diff: bool
) -> float:
    """VADER's ``sentiment_valence`` for the lexicon word at ``i``, step for step.

    The same rules in the same order with the same floating-point operations (``no``,
    capitals, boosters of the three preceding words with their dampening, negation,
    "never so", "without doubt", special idioms, "least"), on lower-cased words computed
    once per sentence instead of once per rule.
    """
    item_lower = lowers[i]
    valence = lexicon[item_lower]
    last = len(words) - 1
    if item_lower == "no" and i != last and lowers[i + 1] in lexicon:
        valence = 0.0
    if (
        (i > 0 and lowers[i - 1] == "no")
        or (i > 1 and lowers[i - 2] == "no")
        or (i > 2 and lowers[i - 3] == "no" and lowers[i - 1] in ("or", "nor"))
    ):
        valence = lexicon[item_lower] * N_SCALAR
    if is_cap_diff and words[i].isupper():
        if valence > 0:
            valence += C_INCR
        else:
            valence -= C_INCR
    for start_i in range(3):
        if i <= start_i:
            break
        before = i - (start_i + 1)
        before_lower = lowers[before]
        if before_lower in lexicon:
            continue
        scalar = 0.0
        boost = _BOOSTERS.get(before_lower)
        if boost is not None:
            scalar = boost
            if valence < 0:
                scalar *= -1
            if words[before].isupper() and is_cap_diff:
                if valence > 0:
                    scalar += C_INCR
                else:
                    scalar -= C_INCR
        if start_i == 1 and scalar != 0:
            scalar = scalar * 0.95
        if start_i == 2 and scalar != 0:
            scalar = scalar * 0.9
        valence = valence + scalar
        valence = _negation_check(valence, lowers, start_i, i)
        if start_i == 2:
            valence = _special_idioms_check(valence, lowers, i)
    if i > 1 and lowers[i - 1] not in lexicon and lowers[i - 1] == "least":
        if lowers[i - 2] != "at" and lowers[i - 2] != "very":
            valence = valence * N_SCALAR
    elif i > 0 and lowers[i - 1] not in lexicon and lowers[i - 1] == "least":
        valence = valence * N_SCALAR
    return valence


def _vader_negated(word: str) -> bool:
    return word in _VADER_NEGATIONS or "n't" in word


def _negation_check(valence: float, lowers: list[str], start_i: int, i: int) -> float:
    """VADER's ``_negation_check``."""
    if start_i == 0:
        if _vader_negated(lowers[i - 1]):
            valence = valence * N_SCALAR
    elif start_i == 1:
        if lowers[i - 2] == "never" and (lowers[i - 1] == "so" or lowers[i - 1] == "this"):
            valence = valence * 1.25
        elif lowers[i - 2] == "without" and lowers[i - 1] == "doubt":
            pass
        elif _vader_negated(lowers[i - 2]):
            valence = valence * N_SCALAR
    else:
        if (lowers[i - 3] == "never" and (lowers[i - 2] == "so" or lowers[i - 2] == "this")) or (
            lowers[i - 1] == "so" or lowers[i - 1] == "this"
        ):
            valence = valence * 1.25
        elif lowers[i - 3] == "without" and (lowers[i - 2] == "doubt" or lowers[i - 1] == "doubt"):
            pass
        elif _vader_negated(lowers[i - 3]):
            valence = valence * N_SCALAR
    return valence


def _special_idioms_check(valence: float, lowers: list[str], i: int) -> float:
    """VADER's ``_special_idioms_check``; skipped when no idiom word is near ``i``."""
    if (
        lowers[i - 1] not in _IDIOM_WORDS
        and lowers[i - 2] not in _IDIOM_WORDS
        and lowers[i] not in _IDIOM_WORDS
    ):
        return valence
    one, two, three, zero = lowers[i - 1], lowers[i - 2], lowers[i - 3], lowers[i]
    onezero = f"{one} {zero}"
    twoonezero = f"{two} {one} {zero}"
    twoone = f"{two} {one}"
    threetwoone = f"{three} {two} {one}"
    threetwo = f"{three} {two}"
    for sequence in (onezero, twoonezero, twoone, threetwoone, threetwo):
        if sequence in SPECIAL_CASES:
            valence = SPECIAL_CASES[sequence]
            break
    if len(lowers) - 1 > i:
        zeroone = f"{zero} {lowers[i + 1]}"
        if zeroone in SPECIAL_CASES:
            valence = SPECIAL_CASES[zeroone]
    if len(lowers) - 1 > i + 1:
        zeroonetwo = f"{zero} {lowers[i + 1]} {lowers[i + 2]}"
        if zeroonetwo in SPECIAL_CASES:
            valence = SPECIAL_CASES[zeroonetwo]
    for n_gram in (threetwoone, threetwo, twoone):
        if n_gram in _BOOSTERS:
            valence = valence + _BOOSTERS[n_gram]
    return valence


class SentimentScorer:
    """VADER with optional CX domain additions; ``domain=False`` reproduces plain VADER words.

    VADER's own word rules are applied by ``_word_valence`` (the same arithmetic as
    ``SentimentIntensityAnalyzer.sentiment_valence``), so the lexicon is read once, when the
    scorer is built; what a token contributes on its own (its stripped and lower-cased forms,
    whether it is scored) is kept per token text, never per sentence or comment.
    """

    def __init__(self, *, domain: bool = True, phrases: bool = True, clause_weighting: bool = True):
        self.analyzer = SentimentIntensityAnalyzer()
        if domain:
            self.analyzer.lexicon.update(DOMAIN_LEXICON)
            for word in DOMAIN_REMOVED:
                self.analyzer.lexicon.pop(word, None)
        self.phrases = phrases
        self.clause_weighting = clause_weighting
        self._tokens: dict[str, _Token] = {}

    def _prepare(self, text: str) -> str:
        if text.isascii():
            return text
        emojis = self.analyzer.emojis
        if not any(ch in emojis for ch in text):
            return text
        # Emojis become their descriptions, padded so token offsets stay meaningful.
        return "".join(f" {emojis[ch]} " if ch in emojis else ch for ch in text)

    def _token(self, raw: str) -> _Token:
        tokens = self._tokens
        if len(tokens) >= _TOKEN_CACHE_MAX:
            tokens.clear()
        token = tokens[raw] = _Token(raw, self.analyzer.lexicon)
        return token

    def score_sentence(self, sentence: str) -> ScoredSentence:
        text = self._prepare(sentence)
        known = self._tokens
        tokens = [known.get(raw) or self._token(raw) for raw in text.split()]
        count = len(tokens)
        starts = [m.start() for m in _TOKEN_RE.finditer(text)]
        if any(map(_SCORED, tokens)):
            words = list(map(_WORD, tokens))
            lowers = list(map(_LOWER, tokens))
            uppers = sum(map(_UPPER, tokens))
            is_cap_diff = 0 < count - uppers < count
            lexicon = self.analyzer.lexicon
            last = count - 1
            valences = [
                0.0
                if not token.scored
                or (token.lower == "kind" and i < last and lowers[i + 1] == "of")
                else _word_valence(lexicon, words, lowers, i, is_cap_diff)
                for i, token in enumerate(tokens)
            ]
        else:
            valences = [0.0] * count
        if self.phrases and count:
            candidates: set[int] = set()
            for token in tokens:
                if token.triggers:
                    candidates.update(token.triggers)
            if candidates:
                bare = list(map(_BARE, tokens))
                self._apply_phrases(text, starts, bare, valences, tokens, candidates)
        contrast_at: int | None = None
        if any(map(_STRUCTURAL, tokens)):
            clause_of_token: list[int] = []
            segment_of_token: list[int] = []
            clause = segment = 0
            clause_weighting = self.clause_weighting
            for i, token in enumerate(tokens):
                if token.contrast and i > 0:
                    clause += 1
                    segment += 1
                    if contrast_at is None and (clause_weighting or token.bare == "but"):
                        contrast_at = i
                clause_of_token.append(clause)
                segment_of_token.append(segment)
                if token.segment_break:
                    segment += 1
                    if token.clause_break:
                        clause += 1
        else:
            clause_of_token = [0] * count
            segment_of_token = [0] * count
        weighted = 0.0
        if contrast_at is None:
            for value in valences:
                weighted += value
        else:
            for i, value in enumerate(valences):
                value *= 0.5 if i < contrast_at else 1.5 if i > contrast_at else 1.0
                weighted += value
        return ScoredSentence(
            sentence, starts, valences, clause_of_token, segment_of_token, weighted
        )

    @staticmethod
    def _apply_phrases(
        text: str,
        starts: list[int],
        lowered_words: list[str],
        valences: list[float],
        tokens: list[_Token],
        candidates: set[int],
    ) -> None:
        lowered = text.lower()
        clause_ends = [token.ends_clause for token in tokens]
        for rule_index in sorted(candidates):
            _, regex, rule_valence = _RULES[rule_index]
            for match in regex.finditer(lowered):
                value = rule_valence
                index = max(bisect_right(starts, match.start()) - 1, 0)
                if _negated(lowered_words, index, clause_ends):
                    value *= -0.74
                # The phrase's meaning replaces the meaning of its words.
                end = match.end()
                for i in range(index, len(starts)):
                    if starts[i] >= end:
                        break
                    valences[i] = 0.0
                valences[index] += value

    def combine(self, sentences: list[ScoredSentence], text: str) -> float:
        """The comment's compound score from its scored sentences, as VADER sums words."""
        total = sum(s.weighted_sum for s in sentences)
        if total == 0:
            return 0.0
        emphasis = self.analyzer._punctuation_emphasis(text)
        total += emphasis if total > 0 else -emphasis
        return normalize(total)

    def span_sentiment(self, text: str, start: int) -> float:
        """The sentiment of the clause of ``text`` around character ``start`` (a topic
        mention's position in its comment), by ``ScoredSentence.local_score``."""
        for sentence, offset in split_sentences(text):
            if offset <= start < offset + max(len(sentence), 1):
                return self.score_sentence(sentence).local_score(start - offset)
        return 0.0

    def polarity(self, text: str) -> float:
        """Compound sentiment of a whole text, sentence by sentence."""
        return self.combine([self.score_sentence(s) for s, _ in split_sentences(text)], text)
