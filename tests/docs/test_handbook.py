"""The operator handbook keeps up with the exception kinds: one page per kind in the seed, each with the same
six sections, an index listing every kind, and no broken relative links. Reads files only (no warehouse, no
dbt), so it runs in milliseconds."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "dbt_project" / "seeds" / "exception_kinds.csv"
HANDBOOK = ROOT / "docs" / "handbook"
EXCEPTIONS = HANDBOOK / "exceptions"
INDEX = EXCEPTIONS / "README.md"

SECTIONS = (
    "What it means",
    "Who owns it",
    "How it is detected",
    "How to fix it",
    "How to confirm it is fixed",
    "Related",
)
FENCED_CODE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


def seed_kinds() -> dict[str, dict[str, str]]:
    with SEED.open(newline="", encoding="utf-8") as seed:
        return {row["kind"]: row for row in csv.DictReader(seed)}


def page(kind: str) -> Path:
    return EXCEPTIONS / f"{kind}.md"


def headings(text: str) -> list[str]:
    return [line[3:].strip() for line in FENCED_CODE.sub("", text).splitlines() if line.startswith("## ")]


def due_text(hours: str) -> str:
    count = int(hours)
    return f"{count} hour" if count == 1 else f"{count} hours"


def prose(text: str) -> str:
    """The text links can live in: code blocks and inline code removed."""
    return INLINE_CODE.sub("", FENCED_CODE.sub("", text))


def test_the_seed_has_kinds() -> None:
    assert seed_kinds(), f"{SEED} lists no exception kinds"


def test_every_kind_in_the_seed_has_a_page() -> None:
    missing = sorted(kind for kind in seed_kinds() if not page(kind).is_file())
    assert not missing, f"exception kinds without a page in {EXCEPTIONS.relative_to(ROOT)}: {', '.join(missing)}"


def test_every_page_has_its_title_and_the_six_sections_in_order() -> None:
    problems = []
    for kind in sorted(seed_kinds()):
        path = page(kind)
        if not path.is_file():
            continue  # reported by the test above
        text = path.read_text(encoding="utf-8")
        first_line = next((line for line in text.splitlines() if line.strip()), "")
        if not first_line.startswith(f"# {kind} — "):
            problems.append(f"{path.name}: the first line must be '# {kind} — <title>', not {first_line!r}")
        found = [heading for heading in headings(text) if heading in SECTIONS]
        if found != list(SECTIONS):
            problems.append(f"{path.name}: sections {found}, expected {list(SECTIONS)} once each, in that order")
    assert not problems, "\n".join(problems)


def test_every_page_states_the_owner_severity_and_due_hours_of_the_seed() -> None:
    problems = []
    for kind, row in sorted(seed_kinds().items()):
        path = page(kind)
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        expected = (
            f"Owner `{row['owner_role']}`, severity `{row['severity']}`, "
            f"due {due_text(row['due_hours'])} after first detection."
        )
        owns = text.split("## Who owns it", 1)[-1].split("\n## ", 1)[0]
        if expected not in owns:
            problems.append(f"{path.name}: 'Who owns it' must say: {expected}")
    assert not problems, "\n".join(problems)


def test_no_page_for_a_kind_the_seed_does_not_have() -> None:
    kinds = seed_kinds()
    pages = (path for path in EXCEPTIONS.glob("*.md") if path.name != "README.md")
    strays = sorted(path.name for path in pages if path.stem not in kinds)
    assert not strays, f"pages for kinds not in {SEED.name}: {', '.join(strays)}"


def test_the_index_lists_and_links_every_kind_with_its_owner_and_severity() -> None:
    index = INDEX.read_text(encoding="utf-8")
    rows = {}
    for line in index.splitlines():
        match = re.match(r"\|\s*\[`([a-z0-9_]+)`\]\(([^)]+)\)\s*\|", line)
        if match:
            rows[match.group(1)] = (match.group(2), [cell.strip() for cell in line.strip().strip("|").split("|")])
    problems = []
    for kind, row in sorted(seed_kinds().items()):
        if kind not in rows:
            problems.append(f"{kind}: no row '| [`{kind}`]({kind}.md) | ...' in the index")
            continue
        target, cells = rows[kind]
        if target != f"{kind}.md":
            problems.append(f"{kind}: the index links {target}, not {kind}.md")
        if cells[1:3] != [row["owner_role"], row["severity"]]:
            seed = f"{row['owner_role']}/{row['severity']}"
            problems.append(f"{kind}: the index gives owner/severity {'/'.join(cells[1:3])}, the seed {seed}")
    strays = sorted(set(rows) - set(seed_kinds()))
    if strays:
        problems.append(f"the index lists kinds not in the seed: {', '.join(strays)}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", sorted(HANDBOOK.rglob("*.md")), ids=lambda path: str(path.relative_to(HANDBOOK)))
def test_every_relative_link_resolves(path: Path) -> None:
    broken = []
    for target in LINK.findall(prose(path.read_text(encoding="utf-8"))):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE) or target.startswith("#"):
            continue  # a web address, mail link or an anchor in the same page
        file_part = target.split("#", 1)[0]
        if not (path.parent / file_part).exists():
            broken.append(target)
    assert not broken, f"{path.relative_to(ROOT)}: links to missing files: {', '.join(broken)}"


# The handbook's own chapters, beside the exception pages: each one a page of docs/handbook/ with a title, listed
# in the handbook's index. Their relative links are checked by test_every_relative_link_resolves, which collects
# every page under docs/handbook/.
HANDBOOK_INDEX = HANDBOOK / "README.md"
CHAPTERS = (
    "operating-model.md",
    "verifying-remittance-matching.md",
    "reading-alerts.md",
    "month-end-checklist.md",
    "connecting-sage-200.md",
    "connecting-amazon-edi.md",
    "editing-seeds.md",
)


def index_links() -> set[str]:
    """The files the handbook's index links to (anchors dropped), as written in its prose."""
    return {target.split("#", 1)[0] for target in LINK.findall(prose(HANDBOOK_INDEX.read_text(encoding="utf-8")))}


@pytest.mark.parametrize("name", CHAPTERS)
def test_every_chapter_exists_with_a_title(name: str) -> None:
    path = HANDBOOK / name
    assert path.is_file(), f"the handbook chapter {path.relative_to(ROOT)} is missing"
    first_line = next((line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()), "")
    assert first_line.startswith("# ") and first_line[2:].strip(), (
        f"{path.relative_to(ROOT)}: the first line must be a top-level title '# <title>', not {first_line!r}"
    )


@pytest.mark.parametrize("name", CHAPTERS)
def test_every_chapter_is_linked_from_the_handbook_index(name: str) -> None:
    assert name in index_links(), f"{HANDBOOK_INDEX.relative_to(ROOT)} does not link to the chapter {name}"


def test_the_link_check_covers_every_chapter() -> None:
    checked = {path.relative_to(HANDBOOK).as_posix() for path in HANDBOOK.rglob("*.md")}
    missing = sorted(set(CHAPTERS) - checked)
    assert not missing, f"chapters outside the relative-link check: {', '.join(missing)}"
