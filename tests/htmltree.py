"""A small element tree over the standard library's HTML parser, for asserting on pages without regexes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


@dataclass
class Element:
    """One element: tag, attributes, children (elements and text)."""

    tag: str
    attrs: dict[str, str] = field(default_factory=dict)
    children: list[Element | str] = field(default_factory=list)
    parent: Element | None = field(default=None, repr=False)

    @property
    def id(self) -> str | None:
        """The id attribute."""
        return self.attrs.get("id")

    @property
    def classes(self) -> set[str]:
        """The class attribute as a set."""
        return set(self.attrs.get("class", "").split())

    def iter(self) -> Iterator[Element]:
        """This element and every element below it, in document order."""
        yield self
        for c in self.children:
            if isinstance(c, Element):
                yield from c.iter()

    def find_all(self, tag: str | None = None, id: str | None = None, cls: str | None = None,
                 where: Callable[[Element], bool] | None = None) -> list[Element]:
        """Elements below (and including) this one that match every given condition."""
        return [
            e for e in self.iter()
            if (tag is None or e.tag == tag) and (id is None or e.id == id) and (cls is None or cls in e.classes)
            and (where is None or where(e))
        ]

    def find(self, tag: str | None = None, id: str | None = None, cls: str | None = None) -> Element:
        """The first match; fails the test when there is none."""
        found = self.find_all(tag, id, cls)
        assert found, f"no element tag={tag} id={id} class={cls}"
        return found[0]

    def text(self) -> str:
        """The text content, whitespace collapsed."""
        parts: list[str] = []
        for c in self.children:
            parts.append(c if isinstance(c, str) else c.text())
        return " ".join(" ".join(parts).split())

    def ancestors(self) -> Iterator[Element]:
        """Parent, grandparent, ... up to the document."""
        node = self.parent
        while node is not None:
            yield node
            node = node.parent


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document")
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        el = Element(tag, {k: v or "" for k, v in attrs}, parent=self.stack[-1])
        self.stack[-1].children.append(el)
        if tag not in VOID:
            self.stack.append(el)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        el = Element(tag, {k: v or "" for k, v in attrs}, parent=self.stack[-1])
        self.stack[-1].children.append(el)

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(html: str) -> Element:
    """Parse an HTML document into an element tree."""
    builder = _Builder()
    builder.feed(html)
    builder.close()
    return builder.root
