"""Venue names compared: abbreviations, acronyms, a few well-known aliases, and the venue's kind."""

from __future__ import annotations

import re
from functools import lru_cache

from rapidfuzz import fuzz

from ...models import normalize_title

_STOP = frozenset({"the", "of", "and", "for", "in", "on", "a", "an", "to", "at", "de", "la"})
# Words that say nothing about which venue it is ("Proceedings of the 27th International ...").
_FILLER = frozenset(
    {
        "proceedings",
        "proc",
        "conference",
        "conf",
        "international",
        "intl",
        "int",
        "annual",
        "acm",
        "ieee",
        "symposium",
        "symp",
        "workshop",
        "joint",
        "meeting",
        "congress",
        "th",
        "st",
        "nd",
        "rd",
    }
)
_JOURNAL_WORDS = frozenset(
    {
        "journal",
        "j",
        "jour",
        "transactions",
        "trans",
        "tran",
        "letters",
        "lett",
        "magazine",
        "mag",
        "quarterly",
        "bulletin",
        "bull",
        "annals",
        "ann",
        "archives",
        "arch",
        "acta",
        "review",
        "rev",
        "record",
        "newsletter",
        "zeitschrift",
        "revue",
        "gazette",
    }
)
_CONFERENCE_WORDS = frozenset(
    {
        "conference",
        "conf",
        "proceedings",
        "proc",
        "symposium",
        "symp",
        "workshop",
        "workshops",
        "congress",
        "colloquium",
        "meeting",
        "summit",
        "convention",
    }
)
_PREPRINT_WORDS = frozenset(
    {"arxiv", "biorxiv", "medrxiv", "ssrn", "preprint", "preprints", "corr"}
)
# Acronyms that are not the initials of the venue's name (checked, widely used names).
VENUE_ALIASES = {
    "sigmod": "management data",
    "pods": "principles database systems",
    "vldb": "very large data bases",
    "vldbj": "very large data bases",
    "kdd": "knowledge discovery data mining",
    "sigir": "research development information retrieval",
    "cikm": "information knowledge management",
    "www": "world wide web",
    "icde": "data engineering",
    "edbt": "extending database technology",
    "icdt": "database theory",
    "nips": "neural information processing systems",
    "neurips": "neural information processing systems",
    "icml": "machine learning",
    "acl": "association computational linguistics",
    "emnlp": "empirical methods natural language processing",
    "chi": "human factors computing systems",
    "icis": "information systems",
    "hicss": "hawaii system sciences",
    "tods": "database systems",
    "tois": "information systems",
}
_NUMBERISH = re.compile(r"^\d+(?:st|nd|rd|th)?$")
_PARTS = re.compile(r"\s*:\s*|\.(?=[A-Z][a-z]{3,})")


def venue_key(venue: str) -> str:
    """Venue words without stop words, numbers and years: 'The Journal of X' -> 'journal x'."""
    words = normalize_title(venue).split()
    return " ".join(w for w in words if w not in _STOP and not _NUMBERISH.match(w))


@lru_cache(maxsize=1 << 14)
def venue_forms(venue: str) -> tuple[str, ...]:
    """The venue's names as keys: each '='-separated alternative, with and without a subtitle.

    'Clinical cancer research : an official journal of the AACR' -> the whole name and
    'clinical cancer research'; 'Ai zheng = Chinese journal of cancer' -> both names.
    """
    forms: list[str] = []
    for alternative in re.split(r"=", venue or ""):
        # "J Thromb Haemost.Conference: 23rd Congress of the ISTH": the journal, the congress
        parts = _PARTS.split(alternative)
        for text in (alternative, *(parts if len(parts) > 1 else ())):
            key = venue_key(text)
            if key and key not in forms and any(w not in _FILLER for w in key.split()):
                forms.append(key)
    return tuple(forms)


def same_venues(a: tuple[str, ...], b: tuple[str, ...]) -> bool | None:
    """same_venue over every name of each venue: True if any pair is, False if every pair is not."""
    if not a or not b:
        return None
    answers = [same_venue(x, y) for x in a for y in b]
    if any(answers):
        return True
    return False if all(x is False for x in answers) else None


@lru_cache(maxsize=1 << 14)
def venue_kind(venue: str) -> str:
    """'journal', 'conference', 'preprint' or '' (unknown or both) from the venue's words."""
    words = set(normalize_title(venue).split())
    if not words:
        return ""
    if words & _PREPRINT_WORDS:
        return "preprint"
    journal = bool(words & _JOURNAL_WORDS)
    conference = bool(words & _CONFERENCE_WORDS)
    if journal == conference:  # neither, or a journal's conference supplement
        return ""
    return "journal" if journal else "conference"


def _core(key: str) -> list[str]:
    words = key.split()
    return [w for w in words if w not in _FILLER] or words


def _abbreviates(short: list[str], long_: list[str]) -> bool:
    """'clin virol' abbreviates 'clinical virology': word prefixes, in order, one for one.

    A longer name may carry one more word at the end when the short one is visibly abbreviated
    and has at least three words ('trans database syst' = 'transactions database systems tods').
    """
    if len(short) < 2:
        return False
    if len(long_) == len(short) + 1 and len(short) >= 3:
        long_ = long_[:-1]
        if not any(w != s for s, w in zip(short, long_, strict=True)):
            return False
    if len(short) != len(long_):
        return False
    return all(w.startswith(s) for s, w in zip(short, long_, strict=True))


def _acronym_of(acronym: str, words: list[str]) -> bool:
    """'vldb' spells 'very large data bases', 'amcis' 'americas conference information systems':
    each of a run of three or more consecutive words gives its first one or two letters."""
    if len(acronym) < 3 or len(words) < 3 or not acronym.isalpha():
        return False

    def spell(rest: str, at: int, used: int) -> bool:
        if not rest:
            return used >= 3
        if at >= len(words):
            return False
        word = words[at]
        return any(
            word.startswith(rest[:n]) and spell(rest[n:], at + 1, used + 1)
            for n in range(min(2, len(rest), len(word)), 0, -1)
        )

    return any(spell(acronym, i, 0) for i, w in enumerate(words) if w[0] == acronym[0])


def _alias_matches(words_a: list[str], words_b: list[str]) -> bool:
    """A well-known acronym of one ('sigmod') whose expansion the other spells out."""
    for word in words_a:
        alias = VENUE_ALIASES.get(word)
        if alias and all(any(w.startswith(x) for w in words_b) for x in alias.split()):
            return True
    return False


@lru_cache(maxsize=1 << 16)
def same_venue(a: str, b: str) -> bool | None:
    """True for one venue written two ways, False for two venues, None when it cannot tell.

    a and b are venue keys (venue_key). "VLDB" = "Very Large Data Bases" (initials),
    "J Clin Virol" = "Journal of Clinical Virology" (word prefixes), "SIGMOD Conference" =
    "International Conference on Management of Data" (a known alias); "VLDB" != "VLDB Journal"
    (a journal word on one side only), "Thorax" != "Chest" (nothing in common).
    """
    if not a or not b:
        return None
    if a == b:
        return True
    core_a, core_b = _core(a), _core(b)
    journal_a = [w for w in core_a if w in _JOURNAL_WORDS]
    journal_b = [w for w in core_b if w in _JOURNAL_WORDS]
    plain_a = [w for w in core_a if w not in _JOURNAL_WORDS] or core_a
    plain_b = [w for w in core_b if w not in _JOURNAL_WORDS] or core_b
    if bool(journal_a) != bool(journal_b):
        # only an acronym that spells the journal word itself ("BMJ") bridges the gap
        bare, named = (core_a, core_b) if journal_b else (core_b, core_a)
        return any(
            _acronym_of(w, named)
            and not _acronym_of(w, [x for x in named if x not in _JOURNAL_WORDS])
            for w in bare
        )
    if set(plain_a) == set(plain_b) or fuzz.ratio(" ".join(plain_a), " ".join(plain_b)) >= 92:
        return True
    if _abbreviates(core_a, core_b) or _abbreviates(core_b, core_a):
        return True
    words_a, words_b = a.split(), b.split()
    for x, whole_y in ((plain_a, words_b), (plain_b, words_a)):
        # a name of one or two words may be an acronym of the other's ("AMCIS 2017 Proceedings")
        if len(x) <= 2 and any(_acronym_of(w, whole_y) for w in x if w not in whole_y):
            return True
        if _alias_matches(x, whole_y):
            return True
    if not any(_word_prefix(x, y) for x in plain_a for y in plain_b):
        return False  # no word in common once the kind of venue and the filler are set aside
    return None


def _word_prefix(x: str, y: str) -> bool:
    short, long_ = (x, y) if len(x) <= len(y) else (y, x)
    return long_.startswith(short) and (len(short) >= 3 or short == long_)
