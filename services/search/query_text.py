"""What a citizen typed, as the store runs it (pure, no I/O).

Question and filler words are dropped; synonyms and abbreviations join a word as alternatives
(../shared/DOMAIN.md "How citizens search"), a broader word its kinds ("sekolah": SD, SMP, ...),
an abbreviation its words spelled out; a level word (desa, kec., ...) says which level of
place is wanted; a sex word or a year says which records are preferred.
"""

from __future__ import annotations

import re
import unicodedata

from services.search.models import ParsedQuery

MAX_WORDS = 12
WORD = re.compile(r"[0-9a-z]+")
YEAR = re.compile(r"^(19|20)\d\d$")

FILLER = frozenset("""
    berapa berapakah apa apakah siapa bagaimana dimana mana kapan di ke dari yang dan untuk
    tahun thn data tolong mohon saja ada adalah ini itu per pada dengan menurut info informasi
    cari mencari lihat tampilkan minta
""".split())
# level word -> number of parts in a region code of that level (64.08 / 64.08.04 / 64.08.04.2001)
LEVELS = {"kabupaten": 2, "kab": 2, "kecamatan": 3, "kec": 3, "desa": 4, "ds": 4,
          "kelurahan": 4, "kel": 4}
# a word -> the other words that stand for it (each list read both ways)
_SYNONYM_SETS = [
    ("penduduk", "warga", "jiwa", "populasi"),
    ("laki", "pria", "lelaki"),
    ("perempuan", "wanita"),
    ("puskesmas", "pkm"),
    ("umur", "usia"),
    ("pendapatan", "penghasilan"),
    ("miskin", "kemiskinan", "prasejahtera"),
]
SYNONYMS: dict[str, list[str]] = {}
for _set in _SYNONYM_SETS:
    for _w in _set:
        SYNONYMS.setdefault(_w, []).extend(x for x in _set if x != _w)
# a broader word finds its kinds; a kind never finds the broader word nor another kind
# (SD/MI, SMP/MTs, SMA/MA and SMK are levels of school, not one another)
KINDS = {"sekolah": ("sd", "mi", "smp", "mts", "sma", "ma", "smk", "madrasah")}
# an abbreviation also matches its words spelled out, in that order (a tsquery phrase)
SPELLED_OUT = {
    "sd": "sekolah <-> dasar", "mi": "madrasah <-> ibtidaiyah",
    "smp": "sekolah <-> menengah <-> pertama", "mts": "madrasah <-> tsanawiyah",
    "sma": "sekolah <-> menengah <-> atas", "ma": "madrasah <-> aliyah",
    "smk": "sekolah <-> menengah <-> kejuruan", "pkm": "pusat <-> kesehatan <-> masyarakat",
}
# a short name typed as one word that stands for several (the regency's own "Kutim")
EXPANSIONS = {"kutim": ("kutai", "timur"), "nakes": ("tenaga", "kesehatan")}
SEX = {"laki": "Laki-laki", "pria": "Laki-laki", "lelaki": "Laki-laki",
       "perempuan": "Perempuan", "wanita": "Perempuan"}


def words_of(text: str) -> list[str]:
    """Lower-case ASCII words (accents folded, short names expanded), at most MAX_WORDS."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    words = [x for w in WORD.findall(folded) for x in EXPANSIONS.get(w, (w,))]
    return words[:MAX_WORDS]


def affix_variants(word: str) -> list[str]:
    """Forms the Indonesian stemmer does not bring together on its own.

    The snowball stemmer reduces "pembangunan" and "bangun" alike, but "kependudukan" becomes
    "nduduk" while "penduduk" becomes "duduk": the ke-...-an circumfix is tried both ways.
    """
    out = [word]
    if word.isdigit() or len(word) < 4:
        return out
    if word.startswith("ke") and word.endswith("an") and len(word) > 7:
        out.append(word[2:-2])
    elif not word.endswith("an"):
        out.append(f"ke{word}an")
    return out


def meaningful_words(words: list[str]) -> tuple[list[str], int | None, list[str]]:
    """(words to match, wanted level as code depth, dropped words). A query of nothing but
    filler or level words keeps them: "desa" alone still looks for desa."""
    level = next((LEVELS[w] for w in words if w in LEVELS), None)
    kept = [w for w in dict.fromkeys(words) if w not in FILLER and w not in LEVELS]
    if not kept:
        kept = [w for w in dict.fromkeys(words) if w not in FILLER] or list(dict.fromkeys(words))
        level = None if kept and kept[0] in LEVELS else level
    dropped = [w for w in words if w not in kept]
    return kept, level, list(dict.fromkeys(dropped))


def _alternatives(word: str, fixes: dict[str, list[str]]) -> tuple[str, ...]:
    alts: list[str] = []
    for form in [word, *fixes.get(word, [])]:
        alts += [v for v in affix_variants(form) if v not in alts]
    others = [*SYNONYMS.get(word, []), *KINDS.get(word, ()),
              *([SPELLED_OUT[word]] if word in SPELLED_OUT else [])]
    return tuple(alts + [s for s in others if s not in alts])


def parse_words(text: str, prefix: bool, fixes: dict[str, list[str]],
                complete: set[str] | frozenset[str] = frozenset(),
                begins: set[str] | frozenset[str] = frozenset()) -> ParsedQuery:
    """Pure: typed words + typo corrections -> the groups of alternatives the store ORs.
    The last word matches as a prefix while typing, unless it is a `complete` known word (a
    prefix of a common word costs a scan of every word it begins); a prefix that `begins` a
    known word is not a typo, and is not corrected ("puskes" is puskesmas being typed, not
    also "pustu")."""
    words, level, dropped = meaningful_words(words_of(text))
    if not words:
        return ParsedQuery(text="", corrected="")
    units = _units(words)
    # (a year is typed whole: as a prefix it would also scan every number it begins; a
    # spelled-out name is typed whole too)
    last_is_prefix = (prefix and not text.endswith(" ") and len(words[-1]) >= 2
                      and words_of(text)[-1] == words[-1] and words[-1] not in complete
                      and not YEAR.match(words[-1]) and units[-1][0] == words[-1])
    if last_is_prefix and words[-1] in begins:
        fixes = {w: alts for w, alts in fixes.items() if w != words[-1]}
    groups = tuple(_alternatives(u, fixes) for _label, u in units)
    corrected = " ".join(fixes.get(w, [w])[0] for w in words)
    year = next((w for w in words if YEAR.match(w)), None)
    sex = next((SEX[w] for w in words if w in SEX), None)
    return ParsedQuery(text=" ".join(words), corrected=corrected, groups=groups,
                       labels=tuple(label for label, _u in units),
                       prefix=words[-1] if last_is_prefix else None, level=level, year=year,
                       sex=sex, ignored=tuple(dropped))


_SPELLINGS = {tuple(v.split(" <-> ")): k for k, v in SPELLED_OUT.items()}


def _units(words: list[str]) -> list[tuple[str, str]]:
    """(as typed, the word matched) per unit of the query: a name spelled out in full
    ("sekolah menengah atas") is one unit matched as its abbreviation ("sma"), which also
    finds the spelled-out words in that order."""
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(words):
        n = next((n for n in (3, 2) if tuple(words[i:i + n]) in _SPELLINGS), 1)
        label = " ".join(words[i:i + n])
        out.append((label, _SPELLINGS[tuple(words[i:i + n])] if n > 1 else words[i]))
        i += n
    return out


def typo_candidates(text: str) -> list[str]:
    words, _level, _dropped = meaningful_words(words_of(text))
    return [w for w in words if len(w) >= 4 and not w.isdigit()]
