"""Region resolution: pure, no I/O. A region is resolved by Kemendagri code, BPS code or name
(with its level words, aliases and former names), only when that is unambiguous, and as of a
day (a row's period's last day): a code valid that day is used as written; a code retired
before it is followed to its successor only where there is one (a code change, a move, a
merge), never across a split; a code that did not yet exist is refused naming the code valid
then. Every refusal names what was written and what would fit, in Bahasa Indonesia."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any

from shared import clock
from shared.contracts import RejectedRow
from shared.reporting_calendar import in_force


def _reject(fieldname: str | None, code: str, message: str, index: int = -1) -> RejectedRow:
    return RejectedRow(index=index, field=fieldname, code=code, message=message)

VILLAGE = frozenset({"desa", "kelurahan"})
LEVEL_WORDS = {
    "KABUPATEN": frozenset({"kabupaten"}), "KAB": frozenset({"kabupaten"}),
    "KECAMATAN": frozenset({"kecamatan"}), "KEC": frozenset({"kecamatan"}),
    "DESA": VILLAGE, "DS": VILLAGE, "KELURAHAN": VILLAGE, "KEL": VILLAGE,
}
LEVEL_LABEL = {"kabupaten": "kabupaten", "kecamatan": "kecamatan", "desa": "desa/kelurahan",
               "kelurahan": "desa/kelurahan"}


def split_level(text: str) -> tuple[frozenset[str], str]:
    """(levels written, name): '(Kec.) Sangatta-Utara' -> ({kecamatan}, 'SANGATTA UTARA').

    Level words count at the start or the end of the cell (brackets and punctuation are
    ignored); a name that is nothing but a level word keeps it."""
    tokens = re.sub(r"[^0-9A-Z]+", " ", str(text).upper()).split()
    levels: set[str] = set()
    while len(tokens) > 1 and tokens[0] in LEVEL_WORDS:
        levels |= LEVEL_WORDS[tokens.pop(0)]
    while len(tokens) > 1 and tokens[-1] in LEVEL_WORDS:
        levels |= LEVEL_WORDS[tokens.pop()]
    return frozenset(levels), " ".join(tokens)


def normalize_name(name: str) -> str:
    """Upper case, single spaces, no punctuation, no level word: 'Desa  Sangatta Utara' ->
    'SANGATTA UTARA'."""
    return split_level(name)[1]


def normalize_code(code: str) -> str:
    return re.sub(r"\s+", "", str(code))


_CODE_LIKE = re.compile(r"[0-9][0-9.\s\-/]*")


def code_digits(text: str) -> str | None:
    """The digits of a cell written as a code ('64.08.04.2001', '64 08 04 2001', '6408-04-2001',
    '6404040012'), or None when the cell is not a code."""
    stripped = str(text).strip().strip(".,;:'\"()[]{}")
    if not _CODE_LIKE.fullmatch(stripped):
        return None
    return re.sub(r"\D", "", stripped)



@dataclass(frozen=True)
class Region:
    code: str
    name: str
    level: str
    parent_code: str | None
    path: tuple[str, ...]
    valid_until: str | None = None
    successor_code: str | None = None
    valid_from: str | None = None

    def valid_on(self, day: str) -> bool:
        """Valid on ``day`` (ISO date): ``shared.reporting_calendar.in_force``."""
        return in_force(self.valid_from, self.valid_until, day)


@dataclass(frozen=True)
class Lineage:
    """One region change as resolution needs it: the codes before and after."""

    from_codes: tuple[str, ...]
    to_codes: tuple[str, ...]


@dataclass
class RegionIndex:
    """All regions and active aliases, for resolving what a submitter wrote."""

    regions: dict[str, Region]
    by_alias_code: dict[str, set[str]] = field(default_factory=dict)  # digits only
    by_name: dict[str, set[str]] = field(default_factory=dict)  # official names
    by_alias_name: dict[str, set[str]] = field(default_factory=dict)  # spellings, former names
    by_digits: dict[str, str] = field(default_factory=dict)  # Kemendagri code without dots
    successors: dict[str, tuple[str, ...]] = field(default_factory=dict)  # from changes
    predecessors: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def build(cls, regions: list[Region], aliases: list[tuple[str, str, str]],
              changes: list[Lineage] = ()) -> "RegionIndex":
        """``aliases``: (region_code, kind, alias) of active aliases; ``changes``: the region
        changes with their codes before and after (a split has several after)."""
        index = cls(regions={r.code: r for r in regions})
        for change in changes:
            for old in change.from_codes:
                if old not in change.to_codes and old in index.regions:
                    index.successors[old] = tuple(sorted(
                        {*index.successors.get(old, ()), *change.to_codes}))
            for new in change.to_codes:
                if new not in change.from_codes and new in index.regions:
                    index.predecessors[new] = tuple(sorted(
                        {*index.predecessors.get(new, ()),
                         *(c for c in change.from_codes if c in index.regions)}))
        for region in regions:
            index.by_name.setdefault(normalize_name(region.name), set()).add(region.code)
            index.by_digits[re.sub(r"\D", "", region.code)] = region.code
        for code, kind, alias in aliases:
            if kind in ("bps_code", "former_code"):
                digits = re.sub(r"\D", "", alias)
                index.by_alias_code.setdefault(digits, set()).add(code)
            else:
                index.by_alias_name.setdefault(normalize_name(alias), set()).add(code)
        return index

    def describe(self, code: str) -> str:
        region = self.regions[code]
        parent = self.regions.get(region.parent_code or "")
        where = f", Kec. {parent.name}" if parent and parent.level == "kecamatan" else ""
        return f"{code} {region.name}{where}"

    def resolve(self, raw: Any, allowed_levels: set[str] | None = None,
                as_of: str | None = None) -> tuple[str | None, RejectedRow | None]:
        """The code ``raw`` means on ``as_of`` (ISO date; today in WITA when None)."""
        day = as_of or clock.today_wita().isoformat()
        text = str(raw if raw is not None else "").strip()
        if not text:
            return None, _reject("region", "region_required",
                                 "Kolom region wajib diisi (kode Kemendagri, kode BPS, atau nama).")
        written: frozenset[str] = frozenset()
        digits = code_digits(text)
        if digits is not None:
            candidates = self._by_code(text, digits)
            if not candidates:
                return None, _reject("region", "region_unknown",
                                     f"Kode wilayah '{text}' tidak dikenal: gunakan kode "
                                     "Kemendagri (mis. 64.08.04.2001) atau kode BPS.")
        else:
            written, name = split_level(text)
            found = self._by_name(name)
            if written:
                at_level = {c for c in found if self.regions[c].level in written} or {
                    c for c in self.by_alias_name.get(name, set())
                    if self.regions[c].level in written}  # a spelling at the written level
                if found and not at_level:
                    # A kecamatan written in the cell is never bent to the desa of that name.
                    others = "; ".join(f"{self.regions[c].level} {self.describe(c)}"
                                       for c in sorted(found))
                    return None, _reject(
                        "region", "region_level_mismatch",
                        f"Tidak ada {LEVEL_LABEL[min(written)]} bernama '{name.title()}'; yang "
                        f"ada: {others}. Perbaiki tingkat wilayahnya atau gunakan kodenya.")
                found = at_level
            candidates = set(found)
            if not candidates:
                return None, self._unknown_name(text, name, written, allowed_levels)
        in_force = {c for c in candidates if self.regions[c].valid_on(day)}
        if not in_force:  # each candidate followed to the code valid on the day, or refused
            followed = [self.follow(c, day) for c in sorted(candidates)]
            in_force = {code for code, _ in followed if code}
            if not in_force:
                return None, followed[0][1]
        candidates = in_force
        if allowed_levels and len(candidates) > 1:
            narrowed = {c for c in candidates if self.regions[c].level in allowed_levels}
            candidates = narrowed or candidates
        if len(candidates) > 1:
            names = "; ".join(self.describe(c) for c in sorted(candidates))
            return None, _reject("region", "region_ambiguous",
                                 f"Wilayah '{text}' cocok dengan lebih dari satu wilayah: "
                                 f"{names}. Gunakan kodenya atau tulis tingkatnya "
                                 "(mis. Kec. atau Desa).")
        resolved = candidates.pop()
        if allowed_levels and self.regions[resolved].level not in allowed_levels:
            levels = ", ".join(sorted(allowed_levels))
            return None, _reject("region", "region_level",
                                 f"Dataset ini diisi per {levels}; {self.describe(resolved)} "
                                 f"adalah {self.regions[resolved].level}.")
        return resolved, None

    def _by_code(self, text: str, digits: str) -> set[str]:
        """Kemendagri code (dots, spaces or dashes optional) or an alias code (BPS, former)."""
        if text.strip() in self.regions:
            return {text.strip()}
        found = set()
        if digits in self.by_digits:
            found.add(self.by_digits[digits])
        found |= self.by_alias_code.get(digits, set())
        return found

    def _by_name(self, name: str) -> set[str]:
        # An official name in force wins over a spelling or a former name of another place.
        return set(self.by_name.get(name) or self.by_alias_name.get(name, set()))

    def suggestions(self, name: str, levels: frozenset[str] | set[str] | None = None,
                    limit: int = 3) -> list[dict]:
        """The regions whose official name or alias is closest to ``name`` (never applied)."""
        names = {**{k: v for k, v in self.by_alias_name.items()}, **self.by_name}
        squeezed = {k.replace(" ", ""): k for k in names}
        close = difflib.get_close_matches(name.replace(" ", ""), list(squeezed), n=10,
                                          cutoff=0.6)
        out: list[dict] = []
        for key in close:
            for code in sorted(names[squeezed[key]]):
                code = self.follow(code, clock.today_wita().isoformat())[0]
                if code is None:
                    continue
                region = self.regions[code]
                if levels and region.level not in levels:
                    continue
                if all(s["code"] != code for s in out):
                    parent = self.regions.get(region.parent_code or "")
                    out.append({"code": code, "name": region.name, "level": region.level,
                                "kecamatan": parent.name if parent and
                                parent.level == "kecamatan" else None})
        return out[:limit]

    def _unknown_name(self, text: str, name: str, written: frozenset[str],
                      allowed_levels: set[str] | None) -> RejectedRow:
        levels = set(written) or None
        if allowed_levels:
            levels = (levels & allowed_levels if levels else set(allowed_levels)) or levels
        found = self.suggestions(name, levels) if name else []
        hint = ""
        if found:
            hint = " Mungkin maksudnya: " + "; ".join(
                f"{s['level']} {s['name']} ({s['code']}"
                + (f", Kec. {s['kecamatan']}" if s["kecamatan"] else "") + ")"
                for s in found) + ". Tulis nama resmi atau kodenya; saran tidak dipakai otomatis."
        return RejectedRow(index=-1, field="region", code="region_unknown",
                           message=f"Wilayah '{text}' tidak dikenal.{hint or ' Gunakan kode '}"
                                   + ("" if hint else "Kemendagri (mis. 64.08.04.2001), kode "
                                      "BPS, atau nama resmi."),
                           details={"suggestions": found})

    def next_codes(self, code: str) -> tuple[str, ...]:
        """The codes that replaced ``code`` (several after a split)."""
        region = self.regions[code]
        return self.successors.get(code) or (
            (region.successor_code,) if region.successor_code in self.regions else ())

    def follow(self, code: str, day: str) -> tuple[str | None, RejectedRow | None]:
        """``code`` as of ``day``: itself when valid then; else its single successor (a
        code change, move or merge), repeatedly; refused after a split (naming the new
        codes), when retired without successor, or before the code existed (naming the code
        valid then)."""
        seen: set[str] = set()
        region = self.regions[code]
        while not region.valid_on(day):
            if region.valid_from and day < region.valid_from:
                return None, self._not_yet(region, day)
            after = self.next_codes(region.code)
            if len(after) > 1:
                return None, self._split(region, after)
            if not after or after[0] in seen:
                return None, _reject("region", "region_retired",
                                     f"Kode wilayah {self.describe(region.code)} tidak berlaku "
                                     f"lagi sejak {region.valid_until} dan tidak punya kode "
                                     "pengganti.")
            seen.add(region.code)
            region = self.regions[after[0]]
        return region.code, None

    def _suggest(self, codes) -> list[dict]:
        out = []
        for code in codes:
            region = self.regions[code]
            parent = self.regions.get(region.parent_code or "")
            out.append({"code": code, "name": region.name, "level": region.level,
                        "kecamatan": parent.name if parent and parent.level == "kecamatan"
                        else None, "valid_from": region.valid_from,
                        "valid_until": region.valid_until})
        return out

    def _split(self, region: Region, after: tuple[str, ...]) -> RejectedRow:
        names = "; ".join(self.describe(c) for c in after)
        return RejectedRow(
            index=-1, field="region", code="region_split",
            message=f"Wilayah {self.describe(region.code)} dimekarkan sejak "
                    f"{region.valid_until} menjadi: {names}. Untuk periode sejak itu tulis "
                    "kode wilayah yang baru.",
            details={"suggestions": self._suggest(after)})

    def _not_yet(self, region: Region, day: str) -> RejectedRow:
        before, seen, frontier = [], set(), list(self.predecessors.get(region.code, ()))
        while frontier:  # back through the changes to the codes valid on the day
            code = frontier.pop()
            if code in seen:
                continue
            seen.add(code)
            if self.regions[code].valid_on(day):
                before.append(code)
            else:
                frontier.extend(self.predecessors.get(code, ()))
        then = ("; untuk periode ini gunakan " + "; ".join(self.describe(c) for c in
                                                            sorted(before))
                if before else "")
        return RejectedRow(
            index=-1, field="region", code="region_not_yet_valid",
            message=f"Kode wilayah {self.describe(region.code)} baru berlaku sejak "
                    f"{region.valid_from}{then}.",
            details={"suggestions": self._suggest(sorted(before))})

    def within(self, code: str, scope: str) -> bool:
        return scope in self.regions[code].path


