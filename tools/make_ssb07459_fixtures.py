"""Write the test fixtures in tests/data/ssb07459/: one population in every layout the importer
reads (SSB table 07459 as Statistikkbanken exports it, and a recorded PxWebApi v2 answer).

The numbers are SYNTHETIC: Indre Østfold's registered 2016 group totals (bundled file) spread to
single years by sex with the model's national shape and rounded; the 2016 parts (Askim, Eidsberg,
Hobøl, Spydeberg, Trøgstad) take fixed shares of that. They have SSB's layout, not SSB's figures.

    python tools/make_ssb07459_fixtures.py        # rewrites tests/data/ssb07459/
"""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.demography.data import load_base_population  # noqa: E402

OUT = ROOT / "tests" / "data" / "ssb07459"
TITLE = "07459: Befolkning, etter region, kjønn, alder, statistikkvariabel og år"
SEX = (("1", "Menn"), ("2", "Kvinner"))
PARTS = (("0122", "Trøgstad", 0.12), ("0123", "Spydeberg", 0.13), ("0124", "Askim", 0.36),
         ("0125", "Eidsberg", 0.26), ("0138", "Hobøl", 0.13))


def age_label(a: int) -> str:
    return "105 år eller eldre" if a == 105 else f"{a} år"


def age_code(a: int) -> str:
    return "105+" if a == 105 else f"{a:03d}"


def integer_population(pop: np.ndarray) -> np.ndarray:
    """Round (2, 106) to integers keeping the total (largest remainders)."""
    flat = pop.ravel()
    base = np.floor(flat)
    short = int(round(flat.sum() - base.sum()))
    order = np.argsort(-(flat - base), kind="stable")
    base[order[:short]] += 1
    return base.reshape(pop.shape).astype(int)


def split_parts(pop: np.ndarray) -> list[np.ndarray]:
    out, left = [], pop.copy()
    for _, _, share in PARTS[:-1]:
        part = np.floor(pop * share).astype(int)
        out.append(part)
        left -= part
    out.append(left)
    return out


def csv_long(pop: np.ndarray, year: int) -> str:
    lines = [f'"{TITLE}"', "", '"region";"kjønn";"alder";"statistikkvariabel";"år";"07459: '
             'Befolkning"']
    for s, (_, sex) in enumerate(SEX):
        for a in range(106):
            lines.append(f'"3014 Indre Østfold";"{sex}";"{age_label(a)}";"Personer";"{year}";'
                         f"{pop[s, a]}")
    return "\n".join(lines) + "\n"


def csv_wide(pop: np.ndarray, year: int) -> str:
    lines = ['"region";"kjønn";"alder";"Personer ' + str(year) + '"']
    for s, (code, _) in enumerate(SEX):
        for a in range(106):
            lines.append(f'"K-3014";"{code}";"{age_code(a)}";{pop[s, a]}')
    return "\r\n".join(lines) + "\r\n"


def jsonstat(regions: list[tuple[str, str, np.ndarray]], year: int, *, codes_only: bool) -> dict:
    values = []
    for _, _, p in regions:
        for s in range(2):
            for a in range(106):
                values.append(int(p[s, a]))
    label = (lambda c, lab: c) if codes_only else (lambda c, lab: lab)
    return {
        "version": "2.0",
        "class": "dataset",
        "label": TITLE,
        "source": "Statistisk sentralbyrå",
        "updated": "2024-02-21T07:00:00Z",
        "id": ["Region", "Kjonn", "Alder", "ContentsCode", "Tid"],
        "size": [len(regions), 2, 106, 1, 1],
        "role": {"time": ["Tid"], "metric": ["ContentsCode"], "geo": ["Region"]},
        "dimension": {
            "Region": {"label": "region", "category": {
                "index": {c: i for i, (c, _, _) in enumerate(regions)},
                "label": {c: label(c, n) for c, n, _ in regions}}},
            "Kjonn": {"label": "kjønn", "category": {
                "index": {"1": 0, "2": 1}, "label": {"1": "Menn", "2": "Kvinner"}}},
            "Alder": {"label": "alder", "category": {
                "index": {age_code(a): a for a in range(106)},
                "label": {age_code(a): age_label(a) for a in range(106)}}},
            "ContentsCode": {"label": "statistikkvariabel", "category": {
                "index": {"Personer1": 0}, "label": {"Personer1": "Personer"},
                "unit": {"Personer1": {"base": "personer", "decimals": 0}}}},
            "Tid": {"label": "år", "category": {"index": {str(year): 0},
                                                "label": {str(year): str(year)}}},
        },
        "value": values,
    }


def xlsx(pop: np.ndarray, year: int) -> bytes:
    """Statistikkbanken's pivot layout: title, header, labels only where they change."""
    rows: list[list[object]] = [[TITLE], [], ["region", "kjønn", "alder", f"{year}"]]
    for s, (_, sex) in enumerate(SEX):
        for a in range(106):
            rows.append(["3014 Indre Østfold" if (s, a) == (0, 0) else "",
                         sex if a == 0 else "", age_label(a), int(pop[s, a])])
    strings: list[str] = []
    index: dict[str, int] = {}
    sheet_rows = []
    for r, row in enumerate(rows, start=1):
        cells = []
        for c, v in enumerate(row):
            ref = f"{chr(65 + c)}{r}"
            if isinstance(v, int):
                cells.append(f'<c r="{ref}"><v>{v}</v></c>')
            elif v != "":
                i = index.setdefault(str(v), len(strings))
                if i == len(strings):
                    strings.append(str(v))
                cells.append(f'<c r="{ref}" t="s"><v>{i}</v></c>')
        sheet_rows.append(f'<row r="{r}">{"".join(cells)}</row>')
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    files = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.'
            'org/package/2006/content-types"><Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
            '"application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName='
            '"/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.'
            'xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
            'sharedStrings+xml"/></Types>'),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
            'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="'
            f'{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook {ns} xmlns:r="{rel}"><sheets>'
            '<sheet name="07459" sheetId="1" r:id="rId1"/></sheets></workbook>'),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
            'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="'
            f'{rel}/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="'
            f'{rel}/sharedStrings" Target="sharedStrings.xml"/></Relationships>'),
        "xl/worksheets/sheet1.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><worksheet {ns}><sheetData>'
            f'{"".join(sheet_rows)}</sheetData></worksheet>'),
        "xl/sharedStrings.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><sst {ns} count="{len(strings)}" '
            f'uniqueCount="{len(strings)}">'
            + "".join(f"<si><t>{escape(s)}</t></si>" for s in strings) + "</sst>"),
    }
    import io

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in files.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 2, 21, 8, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, text.encode("utf-8"))
    return buf.getvalue()


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    pop = integer_population(load_base_population("indre_ostfold", 2016))
    (OUT / "07459_3014_2016_long.csv").write_text(csv_long(pop, 2016), encoding="utf-8-sig")
    (OUT / "07459_3014_2016_wide_cp1252.csv").write_bytes(csv_wide(pop, 2016).encode("cp1252"))
    (OUT / "07459_3014_2016.json").write_text(
        json.dumps(jsonstat([("3014", "3014 Indre Østfold", pop)], 2016, codes_only=False),
                   ensure_ascii=False), encoding="utf-8")
    (OUT / "07459_3014_2016.xlsx").write_bytes(xlsx(pop, 2016))
    parts = split_parts(pop)
    answer = jsonstat([(c, n, p) for (c, n, _), p in zip(PARTS, parts, strict=True)], 2016,
                      codes_only=False)
    (OUT / "pxweb_v2_0122-0123-0124-0125-0138_2016.json").write_text(
        json.dumps(answer, ensure_ascii=False), encoding="utf-8")
    print(f"wrote {OUT} (total {pop.sum()})")


if __name__ == "__main__":
    main()
