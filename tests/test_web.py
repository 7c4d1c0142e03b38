"""The web edition: a self-contained, accessible folder built from the same manifest."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from newsletter_pdf.build import build_issue
from newsletter_pdf.webcheck import site_refs

from .conftest import ROOT


class Page(HTMLParser):
    """Elements of the page by tag, with their attributes and text."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict, list[str]]] = []
        self.stack: list[int] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs), []))
        if tag not in ("img", "source", "meta", "link", "br", "hr", "input"):
            self.stack.append(len(self.elements) - 1)

    def handle_endtag(self, tag):
        while self.stack:
            index = self.stack.pop()
            if self.elements[index][0] == tag:
                break

    def handle_data(self, data):
        for index in self.stack:
            self.elements[index][2].append(data)

    def all(self, tag: str) -> list[tuple[dict, str]]:
        return [(a, " ".join("".join(t).split())) for n, a, t in self.elements if n == tag]


@pytest.fixture(scope="module")
def web(sample_result):
    return sample_result.outputs["web"]


@pytest.fixture(scope="module")
def page(web) -> Page:
    return Page(web.path.read_text(encoding="utf-8"))


def test_every_article_photo_and_the_back_page_are_on_the_page(web, page, sample_result):
    from newsletter_pdf.build import check_issue

    from .conftest import SAMPLE

    checked = check_issue(SAMPLE)
    def plain(text):  # typographic quotes on the page, straight ones in the files
        return re.sub("[‘’]", "'", re.sub("[“”]", '"', text))

    titles = [plain(t) for _, t in page.all("h2")]
    for article in checked.articles:
        assert any(plain(article.title) in t for t in titles), article.title
    assert "About us · Contact" in titles
    assert [t for _, t in page.all("h1")] == ["IOM Iraq Newsletter"]
    alts = {a["alt"] for a, _ in page.all("img")}
    for spec in checked.manifest.articles:
        for photo in spec.photos:
            assert photo.alt in alts
    figcaptions = " ".join(t for _, t in page.all("figcaption"))
    assert "Illustrative photo: Aitzol Berasategi, CC BY 4.0" in figcaptions
    quotes = page.all("aside")
    assert any("pull-quote" in a.get("class", "") for a, _ in quotes)
    assert any(a.get("class") == "box" for a, _ in quotes)


def test_photos_come_at_two_widths_as_webp_with_a_jpeg_fallback(web, page):
    folder = web.path.parent
    sources = page.all("source")
    imgs = [a for a, _ in page.all("img") if a.get("srcset")]
    assert sources and len(sources) == len(imgs)
    for attrs, _ in sources:
        assert attrs["type"] == "image/webp"
        widths = [int(w) for w in re.findall(r" (\d+)w", attrs["srcset"])]
        assert len(widths) == 2 and widths[0] < widths[1]
    lazy = [a for a in imgs if a.get("loading") == "lazy"]
    assert len(lazy) == len(imgs) - 1  # all but the cover (the first thing a reader sees)
    for attrs in imgs:
        for url in re.findall(r"(\S+) \d+w", attrs["srcset"]):
            assert url.endswith(".jpg") and (folder / url).is_file()
            with __import__("PIL.Image").Image.open(folder / url[:-4] .__add__(".webp")) as im:
                assert im.format == "WEBP"


def test_the_folder_is_self_contained_and_light(web):
    folder = web.path.parent
    refs = site_refs(web.path)
    assert refs.fetches and refs.scripts == 0
    for ref in refs.fetches:
        assert "://" not in ref and not ref.startswith("//")
        assert (folder / ref).is_file(), ref
    assert web.preflight.ok, web.preflight.failures
    assert web.size <= 1.5 * 1_048_576
    fonts = sorted(p.name for p in (folder / "fonts").glob("*.woff2"))
    assert "CharisSIL-Regular.woff2" in fonts and "Lato-Bold.woff2" in fonts
    css = web.path.read_text(encoding="utf-8")
    assert 'url("fonts/CharisSIL-Regular.woff2") format("woff2")' in css
    assert "--brand-primary: #0b4f8a;" in css


def test_the_page_links_the_pdfs_and_carries_sharing_metadata(web, page):
    folder = web.path.parent
    links = [a["href"] for a, _ in page.all("a") if a.get("href", "").endswith(".pdf")]
    assert links == ["iom-iraq-newsletter-2011-q1-email.pdf",
                     "iom-iraq-newsletter-2011-q1-print.pdf"]
    for link in links:
        assert (folder / link).read_bytes()[:5] == b"%PDF-"
    meta = {a.get("property") or a.get("name"): a.get("content") for a, _ in page.all("meta")}
    assert meta["og:title"] == "IOM Iraq Newsletter — Volume 5 · Issue 1 · January – March 2011"
    assert meta["og:image"].startswith("img/") and (folder / meta["og:image"]).is_file()
    assert meta["description"].startswith("Five years after the al-Askari mosque attack")
    html = [a for a, _ in page.all("html")][0]
    assert html["lang"] == "en-GB" and html["dir"] == "ltr"
    anchors = [a["href"] for a, _ in page.all("a") if a.get("href", "").startswith("#art-")]
    ids = {a.get("id") for _, a, _ in page.elements}
    assert anchors and all(h[1:] in ids for h in anchors)


def test_every_field_is_escaped_on_the_web_page(make_issue, tmp_path):
    folder = make_issue(files={"articles/news.md": "---\ntitle: A <script>alert(1)</script> "
                               "title\n---\n\nBody <img src=x onerror=alert(2)> text.\n"})
    result = build_issue(folder, out_dir=tmp_path / "o", editions=("web",))
    html = result.outputs["web"].path.read_text(encoding="utf-8")
    assert "<script" not in html and "<img src=\"x\"" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert any(t == "A <script>alert(1)</script> title" for _, t in Page(html).all("h2"))


def test_a_failed_web_build_keeps_the_last_good_folder(make_issue, tmp_path, monkeypatch):
    from newsletter_pdf import website
    from newsletter_pdf.errors import NewsletterError

    folder = make_issue()
    out = tmp_path / "o"
    first = build_issue(folder, out_dir=out, editions=("web",)).outputs["web"].path
    before = first.read_bytes()

    def broken(*args, **kwargs):
        raise NewsletterError("fonts broke")

    monkeypatch.setattr(website, "_fonts", broken)
    with pytest.raises(NewsletterError):
        build_issue(folder, out_dir=out, editions=("web",))
    assert first.read_bytes() == before
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".web")) == []


def test_right_to_left_issue_and_article_read_right_to_left(make_issue, tmp_path):
    folder = make_issue(files={"articles/other.md": "---\ntitle: Hello\n---\n\nIn English.\n"})
    text = (folder / "issue.yaml").read_text(encoding="utf-8")
    text = text.replace("  period:", "  language: ar\n  period:")
    text += "  - file: articles/other.md\n    language: en-GB\n"
    (folder / "issue.yaml").write_text(text, encoding="utf-8")
    result = build_issue(folder, out_dir=tmp_path / "o", editions=("web",))
    page = Page(result.outputs["web"].path.read_text("utf-8"))
    assert [a for a, _ in page.all("html")][0] == {"lang": "ar", "dir": "rtl"}
    articles = [a for a, _ in page.all("article")]
    assert "lang" not in articles[0] and "dir" not in articles[0]  # the issue's
    assert articles[1]["lang"] == "en-GB" and articles[1]["dir"] == "ltr"


def test_font_subsets_keep_every_feature_and_drop_what_a_subset_breaks():
    """The web fonts are cut to the issue's characters with every OpenType feature (an
    Arabic subset still joins its letters), without the tables no subsetter can renumber
    (Charis SIL's private Silt, Graphite's), and the same bytes each time."""
    import io

    from fontTools.ttLib import TTFont

    from newsletter_pdf.website import _subset

    arabic = ROOT / "fonts" / "noto-naskh-arabic" / "NotoNaskhArabic-Regular.ttf"
    data = _subset(arabic, "مرحبا بكم")
    font = TTFont(io.BytesIO(data))
    assert font.flavor == "woff2" and ord("م") in font.getBestCmap()
    features = {record.FeatureTag for record in font["GSUB"].table.FeatureList.FeatureRecord}
    assert {"init", "medi", "fina"} <= features
    charis = ROOT / "fonts" / "charis-sil" / "CharisSIL-Regular.ttf"
    assert "Silt" in TTFont(charis)
    cut = TTFont(io.BytesIO(_subset(charis, "Quarterly")))
    assert not {"Silt", "Silf", "Glat", "Gloc", "Feat", "Sill"} & set(cut.keys())
    assert _subset(arabic, "مرحبا بكم") == data


@pytest.mark.parametrize("language", ["en", "en-US"])
def test_headings_the_manifest_leaves_to_the_layout_get_the_layouts_words(
        make_issue, tmp_path, language):
    """Neither contents.title nor back_page.contact.title given: the web page heads them
    with the word table's words, never "None" (a user found "NONE" over the contents)."""
    from .conftest import DEFAULT_MANIFEST

    manifest = DEFAULT_MANIFEST.replace("  period:", f"  language: {language}\n  period:") + (
        "back_page:\n  contact:\n    people:\n      - name: Ann Lee\n"
        "        email: ann@example.org\n")
    folder = make_issue(manifest=manifest)
    result = build_issue(folder, out_dir=tmp_path / "o", editions=("web",))
    html = result.outputs["web"].path.read_text(encoding="utf-8")
    page = Page(html)
    assert [t for a, t in page.all("h2") if a.get("id") == "contents-title"] == ["In this issue"]
    assert [t for _, t in page.all("h3")] == ["Contact us"]
    assert [t for _, t in page.all("h2") if t == "About us · Contact"]
    assert ">None<" not in html and '"None"' not in html
    checks = {c.name: c for c in result.outputs["web"].preflight.checks}
    assert checks["headings"].status == "ok"


def test_the_web_pages_own_labels_are_in_the_issues_language(make_issue, tmp_path):
    from .conftest import DEFAULT_MANIFEST

    manifest = DEFAULT_MANIFEST.replace("  period:", "  language: fr\n  period:") + (
        "back_page:\n  contact:\n    people:\n      - name: Ann Lee\n")
    result = build_issue(make_issue(manifest=manifest), out_dir=tmp_path / "o",
                         editions=("print", "web"))
    page = Page(result.outputs["web"].path.read_text(encoding="utf-8"))
    texts = {t for _, t in page.all("h2")} | {t for _, t in page.all("h3")}
    assert {"Dans ce numéro", "Télécharger", "Qui sommes-nous · Contact",
            "Nous contacter"} <= texts
    assert [t for a, t in page.all("a") if a.get("class") == "skip"] == ["Aller aux articles"]
    assert [t for a, t in page.all("a") if a.get("type") == "application/pdf"] == [
        "PDF pour l'imprimeur"]


def test_the_web_check_fails_a_heading_or_label_that_reads_none(tmp_path):
    from newsletter_pdf.webcheck import check_site

    (tmp_path / "index.html").write_text(
        "<!DOCTYPE html><html><body><h1>Title</h1><nav aria-label=\"None\"><h2 id=\"c\">"
        "None</h2></nav><h3> </h3><h2>A real <em>heading</em></h2></body></html>",
        encoding="utf-8")
    check = {c.name: c for c in check_site(tmp_path, 10**7).checks}["headings"]
    assert check.status == "fail"
    assert check.detail == ("<h2> 'None', <h3> '', <nav aria-label='None'>: a label the "
                            "layout left unset (its word table or template)")
