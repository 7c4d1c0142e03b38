"""How authors really write: a title as the first heading, long addresses, a postal
address over several lines, the contents on page 2 — each checked on the real PDF."""

from __future__ import annotations

import re

import pypdf

from newsletter_pdf.articles import breakable_addresses, leading_title

from .test_hostile_support import build

BACK = """\
back_page:
  contact:
    title: Contact us
    address: |-
      PO Box 2371
      Jabal Amman 11181
      Jordan
"""


def pages_text(result, edition: str = "email") -> list[str]:
    return [page.extract_text() or "" for page in
            pypdf.PdfReader(result.outputs[edition].path).pages]


def test_leading_title_rules():
    assert leading_title("\n# A Title\n\nBody.\n", None) == ("\n\n\nBody.\n", "A Title")
    assert leading_title("# A *Title*\nBody.\n", "A Title") == ("\nBody.\n", "A Title")
    assert leading_title("# Other\nBody.\n", "A Title") == ("# Other\nBody.\n", "A Title")
    assert leading_title("A Title\n=======\n\nBody", None) == ("\n\n\nBody", "A Title")
    assert leading_title("Body # not a heading\n", None) == ("Body # not a heading\n", None)


def test_a_first_heading_is_the_title_and_is_printed_once(make_issue, tmp_path):
    folder = make_issue(files={"articles/news.md": "# Wells Dug in Three Villages\n\n"
                               "The first paragraph of the news.\n\n## A real subhead\n\n"
                               "More text under it.\n"})
    text = "\n".join(pages_text(build(folder, tmp_path / "o")))
    assert text.count("Wells Dug in Three Villages") == 2  # headline and contents, no subhead
    assert "A real subhead" in text


def test_a_given_title_is_not_repeated_by_the_same_first_heading(make_issue, tmp_path):
    folder = make_issue(files={"articles/news.md": "---\ntitle: Small News\n---\n\n"
                               "# Small News\n\nThe first paragraph.\n"})
    text = "\n".join(pages_text(build(folder, tmp_path / "o")))
    assert text.count("Small News") == 2  # headline and contents


def test_addresses_break_only_after_separators_and_never_hyphenated(make_issue, tmp_path):
    url = "www.internationalorganizationformigration-iraqmission.example.org/newsroom/2011"
    mail = "public.information.officer@internationalorganizationformigration.example.org"
    body = ("Read everything at " + url + " and write to " + mail + " any time. ") * 6
    folder = make_issue(files={"articles/news.md": "---\ntitle: T\n---\n\n" + body + "\n"})
    result = build(folder, tmp_path / "o")
    text = "".join(pages_text(result)).replace("\u200b", "")
    joined = re.sub(r"\n", "", text)
    assert joined.count(url) == 6 and joined.count(mail) == 6  # no hyphen added anywhere
    for line in text.splitlines():  # every line break inside an address follows / . @ -
        for address in (url, mail):
            for cut in range(1, len(address)):
                if line.endswith(address[:cut]) and cut < len(address) and \
                        len(address[:cut]) > 10:
                    assert address[cut - 1] in "/.@-", (line, address[:cut])


def test_breakable_addresses_leaves_plain_link_text_alone():
    assert breakable_addresses('<a href="https://e.org">our report</a>') == \
        '<a href="https://e.org">our report</a>'
    assert breakable_addresses('<a href="mailto:a@b.org">a@b.org</a>') == \
        '<a href="mailto:a@b.org" dir="ltr">a@<wbr>b.<wbr>org</a>'


def test_the_postal_address_keeps_its_lines(make_issue, tmp_path):
    from .conftest import DEFAULT_MANIFEST

    folder = make_issue(DEFAULT_MANIFEST + BACK)
    last = pages_text(build(folder, tmp_path / "o"))[-1]
    lines = [line.strip() for line in last.splitlines()]
    assert lines.index("PO Box 2371") + 1 == lines.index("Jabal Amman 11181")
    assert lines.index("Jabal Amman 11181") + 1 == lines.index("Jordan")


def test_contents_on_page_two(make_issue, tmp_path):
    from .conftest import DEFAULT_MANIFEST

    manifest = DEFAULT_MANIFEST + "contents:\n  title: In this issue\n  place: page-2\n"
    result = build(make_issue(manifest), tmp_path / "o")
    pages = pages_text(result)
    assert "In this issue" not in pages[0]  # not on the cover
    assert "In this issue" in pages[1].upper() or "IN THIS ISSUE" in pages[1]
    assert re.search(r"Small News\W*2", pages[1])  # the title with its page number
    assert "A first paragraph of small news" in pages[1]  # the article follows on page 2
