"""Reader for SSB table 07459 ("Befolkning, etter region, kjønn, alder og år"): the registered
population on 1 January by municipality, sex and single-year age 0..105 ("105 år eller eldre").

Three formats, as Statistikkbanken and the PxWeb API deliver them:

* **CSV** -- semicolon- (or comma-/tab-) separated, UTF-8 (with or without BOM) or Windows-1252,
  optional title lines before the header; Norwegian or English headers (``region;kjønn;alder;
  statistikkvariabel;år;<value>`` -- "long") or one value column per year (``... ;Personer 2020;
  Personer 2021`` -- "wide"); labels such as ``3014 Indre Østfold``, ``Menn``/``Kvinner``,
  ``0 år`` ... ``105 år eller eldre`` or the codes ``3014``, ``1``/``2``, ``000`` ... ``105+``.
* **XLSX** -- the same table in the first worksheet (read with the standard library; blank cells
  under a label repeat the label above, as in Statistikkbanken's pivot layout).
* **JSON-stat 2** -- what PxWebApi v2 (and v1 with ``"format": "json-stat2"``) returns; the
  older ``{"dataset": {...}}`` JSON-stat 1 wrapper is accepted too.

:func:`read_07459` returns a :class:`Population07459` with one (2, 106) array (row 0 men, row 1
women, column = age, 105 = 105 and older) per (region, year). Every problem raises
:class:`sim.errors.InputError` naming the file, the row/line and the column, and what was
expected -- never a traceback.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

import numpy as np

from sim.errors import InputError

N_AGES = 106
MAX_AGE = N_AGES - 1
TABLE = "07459"
LAYOUT_HINT = (
    "SSB table 07459 (population by region, sex, single-year age and year): download it from "
    "Statistikkbanken (https://www.ssb.no/statbank/table/07459) with region = your municipality, "
    "sex = Menn and Kvinner, age = every single year 0 to '105 år eller eldre', and the year, "
    "saved as CSV (semicolon-separated), XLSX or JSON-stat 2"
)

_SEX = {
    "1": 0, "menn": 0, "mann": 0, "males": 0, "male": 0, "men": 0, "m": 0,
    "2": 1, "kvinner": 1, "kvinne": 1, "females": 1, "female": 1, "women": 1, "k": 1, "f": 1,
}
_BOTH_SEXES = {"0", "begge kjønn", "begge kjonn", "both sexes", "both", "i alt", "total"}
_DIM_NAMES = {
    "region": ("region", "kommune", "municipality", "region code"),
    "sex": ("kjønn", "kjonn", "sex", "gender"),
    "age": ("alder", "age"),
    "year": ("år", "ar", "tid", "year", "time"),
    "contents": ("statistikkvariabel", "contents", "contentscode", "statistic", "variable"),
}
_AGE_RE = re.compile(
    r"^(\d{1,3})\s*(\+|år|years?|year)?\s*(\+|eller eldre|or older|og eldre|and over|or more)?$"
)
_GROUP_RE = re.compile(r"^\d{1,3}\s*[-–]\s*\d{1,3}")
_REGION_RE = re.compile(r"^(?:K-|k-)?(\d{4})(?:\s+(.*))?$")
_MISSING = {"", ".", "..", "...", ":", "-", "x"}


@dataclass
class Population07459:
    """The population read from one 07459 file: ``counts[(code, year)]`` is (2, 106) persons."""

    source: str
    fmt: str
    sha256: str
    names: dict[str, str] = field(default_factory=dict)
    counts: dict[tuple[str, int], np.ndarray] = field(default_factory=dict)

    @property
    def regions(self) -> list[str]:
        return sorted({code for code, _ in self.counts})

    def years(self, code: str) -> list[int]:
        return sorted(y for c, y in self.counts if c == code)

    def total(self, code: str, year: int) -> int:
        return int(round(self.counts[(code, year)].sum()))


@dataclass
class _Record:
    region: str
    sex: str
    age: str
    year: str
    value: str
    where: str  # "line 7" / "row 7" / "value index 12"
    value_column: str


# ------------------------------------------------------------------ entry point
def read_07459(path: str | Path, *, fmt: str | None = None) -> Population07459:
    """Read a 07459 export (CSV, XLSX or JSON-stat 2); ``fmt`` overrides the guess from the
    file's extension and content."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file. Expected a downloaded {LAYOUT_HINT}.") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc}).") from None
    return parse_07459(data, str(path), fmt=fmt)


def parse_07459(data: bytes, source: str, *, fmt: str | None = None) -> Population07459:
    """Parse the bytes of a 07459 export; ``source`` names the file (or URL) in messages."""
    if not data.strip():
        raise InputError(f"{source}: the file is empty. Expected {LAYOUT_HINT}.")
    fmt = (fmt or _guess_format(data, source)).lower()
    sha = hashlib.sha256(data).hexdigest()
    if fmt in ("json", "json-stat", "json-stat2", "jsonstat"):
        records, names = _records_jsonstat(data, source)
        fmt = "json-stat2"
    elif fmt == "xlsx":
        records, names = _records_table(_xlsx_rows(data, source), source, "row", fill_down=True)
    elif fmt == "csv":
        records, names = _records_table(_csv_rows(data, source), source, "line", fill_down=False)
    else:
        raise InputError(
            f"{source}: unknown format {fmt!r}. Expected csv, xlsx or json-stat2 ({LAYOUT_HINT})."
        )
    pop = Population07459(source=source, fmt=fmt, sha256=sha, names=names)
    _assemble(pop, records)
    return pop


def _guess_format(data: bytes, source: str) -> str:
    suffix = Path(source.split("?")[0]).suffix.lower()
    if data[:2] == b"PK":
        return "xlsx"
    if suffix in (".xls",):
        raise InputError(
            f"{source}: the old Excel format (.xls) is not supported. Expected the table saved "
            "as XLSX, CSV (semicolon-separated) or JSON-stat 2 from Statistikkbanken."
        )
    head = data.lstrip()[:1]
    if head in (b"{", b"["):
        return "json-stat2"
    if suffix == ".xlsx":
        raise InputError(
            f"{source}: the file ends in .xlsx but is not an Excel workbook (it does not start "
            "like a ZIP archive). Expected an XLSX saved from Statistikkbanken."
        )
    if suffix == ".json":
        raise InputError(
            f"{source}: the file ends in .json but does not start with '{{'. Expected a JSON-stat "
            "2 answer from SSB's PxWeb API."
        )
    if b"\x00" in data[:4096]:
        raise InputError(
            f"{source}: this is a binary file, not a CSV, XLSX or JSON-stat table. Expected "
            f"{LAYOUT_HINT}."
        )
    return "csv"


# ------------------------------------------------------------------ tabular (CSV, XLSX)
def _decode(data: bytes, source: str) -> str:
    for enc in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise InputError(  # pragma: no cover - cp1252 decodes almost anything
        f"{source}: text encoding not recognised. Expected UTF-8 or Windows-1252 (Statistikkbanken)."
    )


def _csv_rows(data: bytes, source: str) -> list[tuple[int, list[str]]]:
    text = _decode(data, source)
    lines = text.splitlines()
    sample = "\n".join(lines[:40])
    delim = max((";", ",", "\t"), key=sample.count)
    out = []
    for i, row in enumerate(csv.reader(io.StringIO(text), delimiter=delim), start=1):
        out.append((i, [c.strip() for c in row]))
    return out  # record number = line number (SSB exports have no quoted newlines)


def _xlsx_rows(data: bytes, source: str) -> list[tuple[int, list[str]]]:
    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        names = zf.namelist()
        shared: list[str] = []
        if "xl/sharedStrings.xml" in names:
            root = ElementTree.fromstring(zf.read("xl/sharedStrings.xml"))
            for si in root.findall("m:si", ns):
                shared.append("".join(t.text or "" for t in si.iter(f"{{{ns['m']}}}t")))
        sheets = sorted(n for n in names if re.match(r"xl/worksheets/sheet\d+\.xml$", n))
        if not sheets:
            raise InputError(f"{source}: the workbook has no worksheet. Expected {LAYOUT_HINT}.")
        sheets.sort(key=lambda n: int(re.findall(r"\d+", n)[-1]))
        root = ElementTree.fromstring(zf.read(sheets[0]))
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError) as exc:
        raise InputError(
            f"{source}: not a readable XLSX workbook ({exc}). Expected the table saved as XLSX "
            "from Statistikkbanken, or save it as CSV instead."
        ) from None
    out = []
    for row in root.iter(f"{{{ns['m']}}}row"):
        r = int(row.get("r", len(out) + 1))
        cells: dict[int, str] = {}
        for c in row.findall("m:c", ns):
            ref = c.get("r", "")
            letters = re.match(r"[A-Z]+", ref)
            col = _col_index(letters.group(0)) if letters else len(cells)
            kind = c.get("t")
            v = c.find("m:v", ns)
            if kind == "s" and v is not None and v.text is not None:
                text = shared[int(v.text)]
            elif kind == "inlineStr":
                text = "".join(t.text or "" for t in c.iter(f"{{{ns['m']}}}t"))
            else:
                text = v.text if v is not None and v.text is not None else ""
                if re.fullmatch(r"-?\d+\.0+", text):
                    text = text.split(".")[0]
            cells[col] = text.strip()
        if cells:
            width = max(cells) + 1
            out.append((r, [cells.get(i, "") for i in range(width)]))
    return out


def _col_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def _dim_of(header: str) -> str | None:
    h = header.strip().strip('"').lower()
    for dim, names in _DIM_NAMES.items():
        if h in names:
            return dim
    return None


def _records_table(
    rows: list[tuple[int, list[str]]], source: str, unit: str, *, fill_down: bool
) -> tuple[list[_Record], dict[str, str]]:
    header_at = None
    for k, (_, cells) in enumerate(rows[:50]):
        dims = {_dim_of(c) for c in cells}
        if {"region", "age"} <= dims:
            header_at = k
            break
    if header_at is None:
        first = next((c for _, c in rows if any(c)), [])
        raise InputError(
            f"{source}: no header row with the columns 'region' and 'alder' (age) in the first "
            f"50 {unit}s (the first non-empty one reads {first[:6]}). Expected {LAYOUT_HINT}, "
            "with the variable names as column headers."
        )
    hline, header = rows[header_at]
    cols: dict[str, int] = {}
    value_cols: list[tuple[int, str, str | None]] = []  # (index, header, year if wide)
    for i, h in enumerate(header):
        dim = _dim_of(h)
        if dim and dim not in cols:
            cols[dim] = i
        elif h:
            year = re.search(r"(?<!\d)(1[89]\d\d|2[01]\d\d)(?!\d)", h)
            value_cols.append((i, h, year.group(1) if year else None))
    missing = [d for d in ("region", "sex", "age") if d not in cols]
    if missing:
        want = {"region": "region", "sex": "kjønn (sex)", "age": "alder (age)"}
        raise InputError(
            f"{source}, {unit} {hline}: the header {header} has no column "
            f"{', '.join(repr(want[m]) for m in missing)}. Expected {LAYOUT_HINT}; the table "
            "must be split by sex (Menn, Kvinner), not only 'Begge kjønn'."
        )
    if "year" in cols:
        if len(value_cols) != 1:
            raise InputError(
                f"{source}, {unit} {hline}: with a year column ('år') the table must have exactly "
                f"one value column, found {[h for _, h, _ in value_cols] or 'none'}. Expected "
                "region;kjønn;alder;år;<persons> (statistikkvariabel optional)."
            )
        layout = [(value_cols[0][0], value_cols[0][1], None)]
    else:
        layout = [vc for vc in value_cols if vc[2] is not None]
        if not layout:
            raise InputError(
                f"{source}, {unit} {hline}: no year column ('år') and no value column named with "
                f"a year (like 'Personer 2020'); the header is {header}. Expected {LAYOUT_HINT}."
            )
    records: list[_Record] = []
    names: dict[str, str] = {}
    last: dict[str, str] = {}
    for lineno, cells in rows[header_at + 1 :]:
        if not any(cells):
            continue
        first = cells[0] if cells else ""
        if len([c for c in cells if c]) == 1 and not _REGION_RE.match(first):
            continue  # footnotes, source lines after the table
        def cell(dim: str, cells: list[str] = cells) -> str:
            i = cols[dim]
            v = cells[i] if i < len(cells) else ""
            if fill_down:
                if v:
                    last[dim] = v
                else:
                    v = last.get(dim, "")
            return v
        region, sex, age = cell("region"), cell("sex"), cell("age")
        if "contents" in cols:
            contents = cell("contents").lower()
            if contents and "person" not in contents and "folkemengde" not in contents:
                continue  # another statistic in the same export (e.g. changes); not persons
        for i, h, wide_year in layout:
            year = wide_year if wide_year is not None else cell("year")
            value = cells[i] if i < len(cells) else ""
            records.append(_Record(region, sex, age, year, value, f"{unit} {lineno}", h))
        m = _REGION_RE.match(region)
        if m and m.group(2):
            names.setdefault(m.group(1), m.group(2).strip())
    if not records:
        raise InputError(
            f"{source}: the table has a header ({unit} {hline}) but no data rows. Expected "
            f"{LAYOUT_HINT}."
        )
    return records, names


# ------------------------------------------------------------------ JSON-stat
def _records_jsonstat(data: bytes, source: str) -> tuple[list[_Record], dict[str, str]]:
    try:
        doc = json.loads(_decode(data, source))
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{source}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}). "
            "Expected a JSON-stat 2 dataset as SSB's PxWeb API returns it."
        ) from None
    if isinstance(doc, dict) and "dataset" in doc and isinstance(doc["dataset"], dict):
        ds = doc["dataset"]  # JSON-stat 1 wrapper (PxWebApi v1 "json-stat")
        ids, sizes = ds.get("dimension", {}).get("id"), ds.get("dimension", {}).get("size")
    elif isinstance(doc, dict):
        ds = doc
        ids, sizes = ds.get("id"), ds.get("size")
    else:
        ds, ids, sizes = {}, None, None
    if not (isinstance(ids, list) and isinstance(sizes, list) and "value" in ds
            and isinstance(ds.get("dimension"), dict)):
        raise InputError(
            f"{source}: JSON, but not a JSON-stat dataset (keys 'id', 'size', 'dimension' and "
            f"'value' expected; found {sorted(ds)[:8] if isinstance(ds, dict) else type(doc).__name__}"
            "). Expected the JSON-stat 2 answer of SSB's PxWeb API for table 07459."
        )
    if len(ids) != len(sizes):
        raise InputError(f"{source}: JSON-stat 'id' has {len(ids)} entries but 'size' {len(sizes)}.")
    dims: dict[str, str] = {}
    for d in ids:
        low = str(d).lower()
        key = {"region": "region", "kjonn": "sex", "kjønn": "sex", "sex": "sex", "alder": "age",
               "age": "age", "tid": "year", "year": "year", "contentscode": "contents"}.get(low)
        if key is None:
            label = str(ds["dimension"].get(d, {}).get("label", "")).lower()
            key = _dim_of(label)
        if key:
            dims[key] = d
    missing = [k for k in ("region", "sex", "age", "year") if k not in dims]
    if missing:
        raise InputError(
            f"{source}: the JSON-stat dataset has dimensions {ids}, lacking "
            f"{', '.join(missing)}. Expected table 07459 with Region, Kjonn, Alder and Tid."
        )
    cats: list[list[tuple[str, str]]] = []
    for d, n in zip(ids, sizes, strict=True):
        cat = ds["dimension"].get(d, {}).get("category", {})
        index = cat.get("index")
        labels = cat.get("label", {}) or {}
        if isinstance(index, dict):
            codes = [c for c, _ in sorted(index.items(), key=lambda kv: kv[1])]
        elif isinstance(index, list):
            codes = list(index)
        elif len(labels) == 1:
            codes = list(labels)
        else:
            raise InputError(f"{source}: JSON-stat dimension {d!r} has no category index.")
        if len(codes) != n:
            raise InputError(
                f"{source}: JSON-stat dimension {d!r} lists {len(codes)} categories but its size "
                f"is {n}."
            )
        cats.append([(str(c), str(labels.get(c, c))) for c in codes])
    total = int(np.prod(sizes)) if sizes else 0
    values = ds["value"]
    if isinstance(values, dict):
        flat: list[object] = [None] * total
        for k, v in values.items():
            flat[int(k)] = v
        values = flat
    if not isinstance(values, list) or len(values) != total:
        raise InputError(
            f"{source}: JSON-stat 'value' has {len(values) if isinstance(values, list) else '?'} "
            f"entries, but the dimension sizes {sizes} multiply to {total}."
        )
    pos = {k: ids.index(d) for k, d in dims.items()}
    if "contents" in dims and sizes[pos["contents"]] > 1:
        keep = [i for i, (c, lab) in enumerate(cats[pos["contents"]])
                if "person" in (c + lab).lower() or "folkemengde" in lab.lower()]
        if len(keep) != 1:
            raise InputError(
                f"{source}: the dataset holds several statistics {cats[pos['contents']]}; "
                "expected only the number of persons (ContentsCode Personer1)."
            )
        keep_contents = keep[0]
    else:
        keep_contents = None
    records: list[_Record] = []
    names: dict[str, str] = {}
    for flat_i, idx in enumerate(np.ndindex(*sizes)):
        if keep_contents is not None and idx[pos["contents"]] != keep_contents:
            continue
        region_code, region_label = cats[pos["region"]][idx[pos["region"]]]
        sex_code, sex_label = cats[pos["sex"]][idx[pos["sex"]]]
        age_code, age_label = cats[pos["age"]][idx[pos["age"]]]
        year_code, _ = cats[pos["year"]][idx[pos["year"]]]
        m = _REGION_RE.match(region_code)
        if m and region_label and region_label != region_code:
            names.setdefault(m.group(1), re.sub(r"^(K-)?\d{4}\s*", "", region_label).strip())
        v = values[flat_i]
        records.append(_Record(
            region_code, sex_code if sex_code in _SEX else sex_label,
            age_code if _AGE_RE.match(age_code) else age_label, year_code,
            "" if v is None else str(v), f"value {flat_i} (Region={region_code}, "
            f"Kjonn={sex_code}, Alder={age_code}, Tid={year_code})", "value"))
    return records, names


# ------------------------------------------------------------------ assembling
def _parse_age(text: str) -> int | None:
    t = text.strip().lower()
    if _GROUP_RE.match(t):
        return None
    m = _AGE_RE.match(t)
    if not m:
        return None
    age = int(m.group(1))
    return age


def _assemble(pop: Population07459, records: list[_Record]) -> None:
    src = pop.source
    seen: dict[tuple[str, int, int, int], str] = {}
    for r in records:
        m = _REGION_RE.match(r.region.strip())
        if not m:
            raise InputError(
                f"{src}, {r.where}, column 'region': {r.region!r} is not a municipality. Expected "
                "a 4-digit municipality number, optionally with its name ('3014 Indre Østfold' or "
                "'K-3014'); counties, the whole country and 'Uoppgitt' are not municipalities."
            )
        code = m.group(1)
        s = r.sex.strip().lower()
        if s in _BOTH_SEXES:
            raise InputError(
                f"{src}, {r.where}, column 'kjønn': {r.sex!r} (both sexes together). Expected "
                "the table split by sex: rows for Menn and Kvinner (codes 1 and 2)."
            )
        if s not in _SEX:
            raise InputError(
                f"{src}, {r.where}, column 'kjønn': {r.sex!r} is not a sex. Expected Menn or "
                "Kvinner (Males/Females, codes 1/2)."
            )
        sex = _SEX[s]
        age = _parse_age(r.age)
        if age is None:
            grouped = _GROUP_RE.match(r.age.strip())
            raise InputError(
                f"{src}, {r.where}, column 'alder': {r.age!r} is "
                + ("an age group; " if grouped else "not an age; ")
                + "expected single years '0 år' ... '104 år' and '105 år eller eldre' (codes 000 "
                "... 105+). Choose every single-year age when downloading table 07459."
            )
        if age > MAX_AGE:
            raise InputError(
                f"{src}, {r.where}, column 'alder': age {age} is above 105; expected 0..104 and "
                "'105 år eller eldre'."
            )
        try:
            year = int(float(r.year.strip()))
            if not 1800 <= year <= 2200:
                raise ValueError
        except ValueError:
            raise InputError(
                f"{src}, {r.where}, column 'år': {r.year!r} is not a year. Expected a calendar "
                "year such as 2020 (the population on 1 January)."
            ) from None
        raw = r.value.strip().replace("\u00a0", "").replace(" ", "")
        if raw in _MISSING:
            raise InputError(
                f"{src}, {r.where}, column {r.value_column!r}: no figure ({r.value!r}; SSB marks "
                f"missing or confidential figures like this) for {code}, {r.sex}, {r.age}, {year}. "
                "Expected a number of persons in every cell; choose a year SSB has published."
            )
        try:
            value = float(raw)
        except ValueError:
            raise InputError(
                f"{src}, {r.where}, column {r.value_column!r}: {r.value!r} is not a number. "
                "Expected a whole number of persons."
            ) from None
        if value < 0 or value != int(value) or not np.isfinite(value):
            raise InputError(
                f"{src}, {r.where}, column {r.value_column!r}: {r.value!r} is not a whole number "
                "of persons >= 0."
            )
        key = (code, year, sex, age)
        if key in seen:
            raise InputError(
                f"{src}, {r.where}: a second figure for {code}, {r.sex}, {r.age}, {year} (the "
                f"first is at {seen[key]}). Expected each region, sex, age and year once."
            )
        seen[key] = r.where
        arr = pop.counts.setdefault((code, year), np.full((2, N_AGES), np.nan))
        arr[sex, age] = value
    for (code, year), arr in sorted(pop.counts.items()):
        holes = np.argwhere(np.isnan(arr))
        if len(holes):
            sex_names = ("Menn", "Kvinner")
            examples = ", ".join(f"{sex_names[s]} {a} år" for s, a in holes[:4])
            raise InputError(
                f"{src}: municipality {code}, {year} is incomplete: {len(holes)} of the 212 "
                f"(sex, age) cells are missing, e.g. {examples}. Expected both sexes and every "
                "age 0..104 plus '105 år eller eldre' for each year."
            )
