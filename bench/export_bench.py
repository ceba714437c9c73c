"""Convert a big synthetic ChatGPT export and report wall time and peak memory.

Usage::

    python bench/export_bench.py                 # 1 GB conversations.json -> DOCX
    python bench/export_bench.py --size 200MB    # smaller
    python bench/export_bench.py --size 200MB --output md --keep

The export is written in the shape of a recent ``conversations.json`` (one line of JSON as the
export writes it, non-ASCII escaped): per conversation a ``mapping`` tree with a hidden system
root, a context message, user prompts, replies with the metadata a real export carries, and now
and then a regenerated answer on another branch, reasoning (``thoughts``, ``reasoning_recap``) and
a browsing tool call. About one conversation in five asks for numbered Q&A, which the replies give
in batches with chat between them. Text comes from a fixed pool of generated paragraphs (seeded,
so every run writes the same file) with a running number in each message.

``qabook convert`` then runs in a child process started with ``posix_spawn`` from this small
process (the generator writes as it goes and holds one conversation at a time), and its peak RSS
and CPU time are read with ``os.wait4``: they are the converter's own. The report also names the
share of the file that is answer and prompt text on the current paths, since the document model
(which qabook keeps whole) grows with that, while the JSON tree (which it does not keep) grows with
the file.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORDS = ("data model index query cache thread value system network packet layer token vector matrix "
         "function class method object module import return yield await async lambda closure scope "
         "stack heap queue graph tree node edge weight bias gradient loss batch epoch train test "
         "latency throughput memory disk file stream buffer socket server client request response "
         "error retry timeout lock mutex atomic commit branch merge rebase review deploy build release "
         "the a of to and in is that for it with as on be by this are or from at which an not").split()


def parse_size(text: str) -> int:
    m = re.fullmatch(r"\s*([\d.]+)\s*([KMGT]?)(i?B)?\s*", text, re.IGNORECASE)
    if not m:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (use e.g. 200MB or 1GB)")
    unit = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}[m.group(2).upper()]
    if m.group(3) and m.group(3).lower() == "ib":
        unit = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}[m.group(2).upper()]
    return int(float(m.group(1)) * unit)


class Pool:
    """Pre-generated sentences, paragraphs and replies, so writing a gigabyte stays fast."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.sentences = [self._sentence() for _ in range(4000)]
        self.paragraphs = [" ".join(rng.choice(self.sentences) for _ in range(rng.randint(2, 5)))
                           for _ in range(3000)]
        self.code = [self._code() for _ in range(300)]

    def _sentence(self) -> str:
        words = [self.rng.choice(WORDS) for _ in range(self.rng.randint(6, 18))]
        if self.rng.random() < 0.3:
            i = self.rng.randrange(len(words))
            words[i] = f"`{words[i]}()`" if self.rng.random() < 0.5 else f"**{words[i]}**"
        text = " ".join(words)
        return text[0].upper() + text[1:] + self.rng.choice(".....?")

    def _code(self) -> str:
        lines = []
        for _ in range(self.rng.randint(3, 12)):
            lines.append("    " * self.rng.randint(0, 2) + f"{self.rng.choice(WORDS)} = {self.rng.choice(WORDS)}"
                         f"({self.rng.choice(WORDS)}, {self.rng.randint(0, 999)})")
        return "```python\n" + "\n".join(lines) + "\n```"

    def reply(self, n: int) -> str:
        rng = self.rng
        parts = [f"Reply {n}: " + rng.choice(self.paragraphs)]
        for _ in range(rng.randint(1, 5)):
            r = rng.random()
            if r < 0.45:
                parts.append(rng.choice(self.paragraphs))
            elif r < 0.7:
                parts.append("\n".join(f"- {rng.choice(self.sentences)}" for _ in range(rng.randint(2, 6))))
            elif r < 0.85:
                parts.append(rng.choice(self.code))
            else:
                parts.append(f"### {rng.choice(self.sentences).rstrip('.?')}\n\n{rng.choice(self.paragraphs)}")
        return "\n\n".join(parts)

    def prompt(self, n: int) -> str:
        return f"Prompt {n}: " + " ".join(self.rng.choice(self.sentences) for _ in range(self.rng.randint(1, 3)))

    def batch(self, lo: int, hi: int) -> str:
        rng = self.rng
        parts = [f"Here are questions {lo}–{hi}.", f"## Q&A ({lo}–{hi})"]
        for k in range(lo, hi + 1):
            q = rng.choice(self.sentences).rstrip(".") .rstrip("?") + "?"
            parts.append(f"{k}. Q: {q}\nA: {rng.choice(self.paragraphs)}")
            if rng.random() < 0.3:
                parts.append(rng.choice(self.code))
        parts.append(f"✅ That's {lo}–{hi} done. Do you want me to continue?")
        return "\n\n".join(parts)


class Writer:
    """Builds one conversation at a time in the export's shape."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.pool = Pool(self.rng)
        self.n = 0
        self.clock = 1_700_000_000.0
        self.path_text = 0

    def _id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _node(self, mapping: dict, parent: str | None, role: str | None, content: dict | None,
              recipient: str = "all", channel: str | None = None, hidden: bool = False,
              author_name: str | None = None) -> str:
        node_id = self._id()
        self.clock += self.rng.uniform(1, 90)
        msg = None
        if role is not None:
            meta: dict = {"timestamp_": "absolute", "message_type": None}
            if role == "assistant":
                meta.update({
                    "finish_details": {"type": "stop", "stop_tokens": [200002]},
                    "is_complete": True, "citations": [], "content_references": [],
                    "model_slug": "gpt-4o", "default_model_slug": "auto",
                    "parent_id": parent, "request_id": f"{self.rng.getrandbits(64):016x}-AMS",
                    "message_source": None, "sonic_classification_result": {"latency_ms": 12.5,
                                                                            "search_prob": 0.01},
                })
            if role == "user":
                meta.update({"request_id": f"{self.rng.getrandbits(64):016x}-AMS", "message_source": None,
                             "selected_github_repos": [], "serialization_metadata": {"custom_symbol_offsets": []},
                             "dictation": False})
            if hidden:
                meta["is_visually_hidden_from_conversation"] = True
            msg = {"id": node_id, "author": {"role": role, "name": author_name, "metadata": {}},
                   "create_time": self.clock, "update_time": None, "content": content,
                   "status": "finished_successfully", "end_turn": True if role == "assistant" else None,
                   "weight": 1.0, "metadata": meta, "recipient": recipient, "channel": channel}
        mapping[node_id] = {"id": node_id, "message": msg, "parent": parent, "children": []}
        if parent is not None:
            mapping[parent]["children"].append(node_id)
        return node_id

    def conversation(self) -> dict:
        rng, pool = self.rng, self.pool
        self.n += 1
        mapping: dict = {}
        created = self.clock
        root = self._node(mapping, None, None, None)
        cur = self._node(mapping, root, "system", {"content_type": "text", "parts": [""]}, hidden=True)
        cur = self._node(mapping, cur, "user", {"content_type": "user_editable_context",
                                                "user_profile": "The user is a software engineer.",
                                                "user_instructions": "Answer concisely."}, hidden=True)
        numbered = rng.random() < 0.2
        turns = rng.randint(3, 8) if numbered else rng.randint(1, 6)
        next_q = 1
        for t in range(turns):
            self.n += 1
            if numbered and t > 0:
                prompt = "yes, continue"
            elif numbered:
                prompt = f"Prompt {self.n}: give me interview questions as numbered Q: / A: items, ten at a time."
            else:
                prompt = pool.prompt(self.n)
            cur = self._node(mapping, cur, "user", {"content_type": "text", "parts": [prompt]})
            self.path_text += len(prompt)
            user = cur
            if rng.random() < 0.15:
                cur = self._node(mapping, cur, "assistant", {
                    "content_type": "thoughts", "source_analysis_msg_id": self._id(),
                    "thoughts": [{"summary": "Planning", "content": rng.choice(pool.paragraphs)}]})
                cur = self._node(mapping, cur, "assistant", {"content_type": "reasoning_recap",
                                                             "content": "Thought for 4s"})
            if rng.random() < 0.1:
                cur = self._node(mapping, cur, "assistant", {"content_type": "code", "language": "unknown",
                                                             "text": f"search(\"{rng.choice(WORDS)}\")"},
                                 recipient="browser")
                cur = self._node(mapping, cur, "tool", {"content_type": "tether_browsing_display",
                                                        "result": rng.choice(pool.paragraphs), "summary": None},
                                 author_name="browser")
            if numbered:
                reply = pool.batch(next_q, next_q + 9)
                next_q += 10
            else:
                reply = pool.reply(self.n)
            if rng.random() < 0.1:  # a regenerated answer: the old one stays on another branch
                self._node(mapping, cur, "assistant", {"content_type": "text", "parts": [pool.reply(self.n)]},
                           channel="final")
            cur = self._node(mapping, cur, "assistant", {"content_type": "text", "parts": [reply]},
                             channel="final")
            self.path_text += len(reply)
            del user
        return {
            "title": f"Conversation {self.n}: {rng.choice(pool.sentences)[:40]}",
            "create_time": created, "update_time": self.clock, "mapping": mapping,
            "moderation_results": [], "current_node": cur, "plugin_ids": None,
            "conversation_id": self._id(), "conversation_template_id": None, "gizmo_id": None,
            "gizmo_type": None, "is_archived": False, "is_starred": None, "safe_urls": [],
            "blocked_urls": [], "default_model_slug": "auto", "conversation_origin": None,
            "voice": None, "async_status": None, "disabled_tool_ids": [], "is_do_not_remember": False,
            "memory_scope": "global_enabled", "sugar_item_id": None, "id": self._id(),
        }


def generate(path: Path, size: int, seed: int) -> tuple[int, int, int]:
    """Write the export; returns (bytes, conversations, text bytes on current paths)."""
    w = Writer(seed)
    written = 0
    count = 0
    with open(path, "w", encoding="ascii", buffering=1 << 20) as fh:
        fh.write("[")
        written += 1
        while written < size:
            text = json.dumps(w.conversation())
            if count:
                fh.write(", ")
                written += 2
            fh.write(text)
            written += len(text)
            count += 1
        fh.write("]")
        written += 1
    return written, count, w.path_text


def run(command: list[str]) -> dict:
    """Run a command as a child of this small process; its own wall time, CPU time and peak RSS."""
    start = time.perf_counter()
    pid = os.posix_spawn(command[0], command, os.environ)
    _, status, usage = os.wait4(pid, 0)
    return {
        "status": os.waitstatus_to_exitcode(status),
        "wall_s": round(time.perf_counter() - start, 1),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
        "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=parse_size, default=parse_size("1GB"), help="export size (default 1GB)")
    ap.add_argument("--output", default="docx", choices=["docx", "md", "json"], help="what to convert to")
    ap.add_argument("--dir", type=Path, default=None, help="work folder (default: a temporary one)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", action="store_true", help="keep the export and the output")
    ap.add_argument("--json", dest="as_json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args()

    work = args.dir or Path(tempfile.mkdtemp(prefix="qabook-export-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(work).free
    if free < args.size * 2.5:
        print(f"not enough disk in {work}: {free / 1e9:.1f} GB free, need about {args.size * 2.5 / 1e9:.1f} GB",
              file=sys.stderr)
        return 2
    export = work / "conversations.json"
    out = work / f"conversations.{args.output}"
    report = work / "report.json"
    t0 = time.perf_counter()
    size, conversations, path_text = generate(export, args.size, args.seed)
    gen_s = time.perf_counter() - t0
    qabook = [sys.executable, "-c", "from qabook.cli import main; main()"]
    figures = run(qabook + ["convert", str(export), "-o", str(out), "--report", str(report), "-q"])
    result = {
        "export_bytes": size,
        "conversations": conversations,
        "path_text_share": round(path_text / size, 3),
        "generate_s": round(gen_s, 1),
        **figures,
        "output": args.output,
        "output_bytes": out.stat().st_size if out.exists() else 0,
    }
    if report.exists():
        rep = json.loads(report.read_text(encoding="utf-8"))
        result.update(items=rep["items"], answered=rep["answered"], sections=len(rep["sections"]))
    if not args.keep:
        for p in (export, out, report):
            p.unlink(missing_ok=True)
        if args.dir is None:
            shutil.rmtree(work, ignore_errors=True)
    if args.as_json:
        print(json.dumps(result, indent=1))
    else:
        mb = size / 1e6
        print(f"export {mb:,.0f} MB, {conversations:,} conversations, text on current paths "
              f"{result['path_text_share']:.0%} of the file (generated in {result['generate_s']} s)")
        print(f"qabook convert -> {args.output}: exit {result['status']}, wall {result['wall_s']} s, "
              f"CPU {result['cpu_s']} s, peak RSS {result['peak_rss_mib']:,} MiB, "
              f"{result.get('items', '?'):,} items in {result.get('sections', '?'):,} sections, "
              f"output {result['output_bytes'] / 1e6:,.0f} MB")
    return 0 if result["status"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
