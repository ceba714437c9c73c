"""Code split into one fence per line, merged back into one block.

Copying from a chat page can turn each line of a code block into a fenced block of its own::

    ```            ```
    for x in xs:    for x in xs:
    ```      ->        print(x)
    ```            ```
        print(x)
    ```

A run of two or more neighbouring code blocks of at most one line each, with the same (or no)
language and nothing between them, becomes one block; indentation and empty lines are kept.
"""

from __future__ import annotations

from qabook.model import Block, CodeBlock, Item
from qabook.repair.base import PassContext, on_answer

NAME = "split-code"


def _piece(b: Block) -> CodeBlock | None:
    return b if isinstance(b, CodeBlock) and "\n" not in b.text else None


def run(item: Item, ctx: PassContext) -> Item:
    def fix(blocks: tuple[Block, ...]) -> tuple[Block, ...]:
        out: list[Block] = []
        i = 0
        while i < len(blocks):
            first = _piece(blocks[i])
            j = i + 1
            if first is not None:
                lang = first.language
                while j < len(blocks):
                    nxt = _piece(blocks[j])
                    if nxt is None or (nxt.language and lang and nxt.language != lang):
                        break
                    lang = lang or nxt.language
                    j += 1
            if first is not None and j - i >= 2:
                pieces = [b for b in blocks[i:j] if isinstance(b, CodeBlock)]
                out.append(CodeBlock("\n".join(p.text for p in pieces), lang))
                ctx.count += 1
            else:
                out.extend(blocks[i:j])
            i = j
        return tuple(out)

    return on_answer(item, fix)
