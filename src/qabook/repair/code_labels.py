"""A language label line right above a code block becomes the block's language.

Chat pages print the language over a code block; a copy turns it into a line of its own::

    Python                       ```python
                            ->   import torch
    ```                          ```
    import torch
    ```

Only a paragraph that is exactly one known language name, directly followed by a code block
without a language, is taken; the name is kept as the block's language, so no word is lost.
"""

from __future__ import annotations

from dataclasses import replace

from qabook.model import Block, CodeBlock, Item, Paragraph, Text
from qabook.repair.base import PassContext, on_answer

NAME = "code-labels"

LANGUAGES: dict[str, str] = {
    name.lower(): name.lower()
    for name in (
        "Python", "Bash", "Shell", "Sh", "Zsh", "PowerShell", "Console", "JavaScript", "TypeScript",
        "JSON", "YAML", "TOML", "SQL", "Java", "Kotlin", "Scala", "Go", "Rust", "Ruby", "PHP", "Perl",
        "R", "Julia", "Swift", "HTML", "CSS", "XML", "Markdown", "Dockerfile", "Makefile", "Lua",
        "C", "C#", "C++", "Haskell", "Elixir", "Dart", "MATLAB", "Text", "Plaintext", "Diff", "INI",
        "GraphQL", "Protobuf", "CUDA", "LaTeX", "TeX", "Nginx", "Batch", "Groovy", "Objective-C",
    )
} | {"js": "javascript", "ts": "typescript", "py": "python", "cpp": "c++", "csharp": "c#",
     "shell script": "shell", "plain text": "text", "jsx": "jsx", "tsx": "tsx"}


def language_of(block: Block) -> str | None:
    """The language a label paragraph names, or None when it is not a label."""
    if isinstance(block, Paragraph) and len(block.inlines) == 1 and isinstance(block.inlines[0], Text):
        return LANGUAGES.get(block.inlines[0].text.strip().lower())
    return None


def run(item: Item, ctx: PassContext) -> Item:
    def fix(blocks: tuple[Block, ...]) -> tuple[Block, ...]:
        out: list[Block] = []
        i = 0
        while i < len(blocks):
            b = blocks[i]
            lang = language_of(b)
            nxt = blocks[i + 1] if i + 1 < len(blocks) else None
            if lang is not None and isinstance(nxt, CodeBlock) and not nxt.language:
                out.append(replace(nxt, language=lang))
                ctx.count += 1
                i += 2
                continue
            out.append(b)
            i += 1
        return tuple(out)

    return on_answer(item, fix)
