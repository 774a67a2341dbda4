"""Rich text written by the team (care plan sections, program modules): Markdown in, safe HTML out.

markdown-it-py renders CommonMark with raw HTML switched off (a `<script>` in the text comes out
as text), and nh3 (the Ammonia sanitiser) then keeps only an allowlist of tags and attributes,
so no `on*` attribute, `style`, `javascript:` link or embedded object can survive whatever the
renderer lets through. Links open in a new tab without a referrer.
"""

from __future__ import annotations

from functools import lru_cache

import anyio
import nh3
from markdown_it import MarkdownIt

TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "s", "code",
    "pre", "blockquote", "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td",
}
ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = {"https", "http", "mailto", "tel"}
INLINE_LIMIT = 4000  # longer texts render in a worker thread, off the event loop


@lru_cache(maxsize=1)
def _renderer() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable(
        ["table", "strikethrough"])


def render(markdown: str) -> str:
    """Sanitised HTML for a Markdown text."""
    raw = _renderer().render(markdown)
    return nh3.clean(raw, tags=TAGS, attributes=ATTRIBUTES, url_schemes=URL_SCHEMES,
                     link_rel="noopener noreferrer nofollow", strip_comments=True).strip()


async def render_async(markdown: str) -> str:
    """`render`, in a worker thread for long texts so a big plan never blocks the loop."""
    if len(markdown) < INLINE_LIMIT:
        return render(markdown)
    return await anyio.to_thread.run_sync(render, markdown)
