"""Tokenizers: raw bytes (the tiny models) and GPT-2-style byte-level BPE (SmolLM2).

Both expose ``encode(text) -> list[int]``, ``decode(ids) -> str`` and ``vocab_size``.

Byte-level BPE, as used by GPT-2 and SmolLM2:

1. the text is split into pieces by a regex (words with their leading space, runs of
   digits or punctuation, whitespace); SmolLM2 ("smollm" pre-tokenizer in GGUF) first
   isolates every single digit;
2. each piece's UTF-8 bytes are spelled with one printable character per byte
   (:func:`byte_to_unicode`), so the vocabulary is a list of plain strings;
3. adjacent symbols are merged greedily, always the pair whose merge rule has the
   lowest rank, until no rule applies; the resulting strings are looked up in the vocab.

Control tokens (GGUF token type 3, e.g. ``<|im_start|>``) are matched literally in the
text before the regex split.
"""
from __future__ import annotations

from functools import lru_cache

GPT2_SPLIT = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
GGUF_CONTROL = 3


class ByteTokenizer:
    """Token id = byte value of the UTF-8 encoding (vocab 256)."""

    vocab_size = 256

    def encode(self, text: str) -> list[int]:
        return list(text.encode("utf-8"))

    def decode(self, ids) -> str:
        return bytes(int(i) for i in ids).decode("utf-8", errors="replace")


@lru_cache(maxsize=1)
def byte_to_unicode() -> dict[int, str]:
    """GPT-2's reversible byte -> printable character map.

    Bytes that are printable Latin-1 characters (``!``..``~``, ``¡``..``¬``, ``®``..``ÿ``)
    stand for themselves; the remaining 68 bytes, in increasing order, get the
    characters U+0100, U+0101, ... (so a space, byte 32, becomes ``Ġ``).
    """
    printable = [*range(0x21, 0x7F), *range(0xA1, 0xAD), *range(0xAE, 0x100)]
    mapping = {b: chr(b) for b in printable}
    extra = 0
    for b in range(256):
        if b not in mapping:
            mapping[b] = chr(256 + extra)
            extra += 1
    return mapping


class BPETokenizer:
    """Byte-level BPE over a token list and ranked merge rules."""

    def __init__(self, tokens: list[str], merges: list[str], control_ids=(), split_digits: bool = False,
                 bos_id: int | None = None, eos_id: int | None = None):
        import regex  # the \p{L} / \p{N} classes need the `regex` package

        self.tokens = list(tokens)
        self.ids = {t: i for i, t in enumerate(self.tokens)}
        self.ranks = {tuple(m.split(" ")): r for r, m in enumerate(merges)}
        self.control = {self.tokens[i]: i for i in control_ids}
        self.bos_id, self.eos_id = bos_id, eos_id
        self._split = regex.compile(GPT2_SPLIT)
        self._digit = regex.compile(r"\p{N}") if split_digits else None
        longest_first = sorted(self.control, key=len, reverse=True)
        self._control_re = regex.compile("|".join(map(regex.escape, longest_first))) if self.control else None
        self._b2u = byte_to_unicode()
        self._u2b = {u: b for b, u in self._b2u.items()}
        self._cache: dict[str, list[int]] = {}

    @property
    def vocab_size(self) -> int:
        return len(self.tokens)

    def pieces(self, text: str) -> list[str]:
        """The pre-tokenizer split of ``text`` (no control tokens inside)."""
        chunks = [text]
        if self._digit is not None:
            chunks, pos = [], 0
            for m in self._digit.finditer(text):
                chunks += [text[pos:m.start()], m.group()]
                pos = m.end()
            chunks.append(text[pos:])
        return [p for c in chunks if c for p in self._split.findall(c)]

    def _bpe(self, piece: str) -> list[int]:
        if piece in self._cache:
            return self._cache[piece]
        symbols = [self._b2u[b] for b in piece.encode("utf-8")]
        while len(symbols) > 1:
            pairs = [(self.ranks.get(p, len(self.ranks)), i) for i, p in enumerate(zip(symbols, symbols[1:]))]
            rank, i = min(pairs)
            if rank == len(self.ranks):
                break
            first, second = symbols[i], symbols[i + 1]
            merged, j = [], 0
            while j < len(symbols):  # merge every occurrence of the best pair, left to right
                if j + 1 < len(symbols) and symbols[j] == first and symbols[j + 1] == second:
                    merged.append(first + second)
                    j += 2
                else:
                    merged.append(symbols[j])
                    j += 1
            symbols = merged
        try:
            out = [self.ids[s] for s in symbols]
        except KeyError as e:
            raise ValueError(f"BPE produced {e.args[0]!r}, which is not in the vocabulary") from None
        self._cache[piece] = out
        return out

    def encode(self, text: str, allow_control: bool = True) -> list[int]:
        """Token ids of ``text``; control-token strings map to their ids if ``allow_control``."""
        if not (allow_control and self._control_re):
            return [i for p in self.pieces(text) for i in self._bpe(p)]
        out, pos = [], 0
        for m in self._control_re.finditer(text):
            out += self.encode(text[pos:m.start()], allow_control=False)
            out.append(self.control[m.group()])
            pos = m.end()
        return out + self.encode(text[pos:], allow_control=False)

    def decode(self, ids) -> str:
        """The text of ``ids`` (invalid UTF-8 is replaced by U+FFFD)."""
        data = bytearray()
        for i in ids:
            tok = self.tokens[int(i)]
            if tok in self.control:
                data += tok.encode("utf-8")
            else:
                data += bytes(self._u2b[c] for c in tok)
        return data.decode("utf-8", errors="replace")

    def token_str(self, i: int) -> str:
        """The text of a single token."""
        return self.decode([i])


def bpe_from_gguf(reader) -> BPETokenizer:
    """The tokenizer stored in a GGUF file's metadata (``tokenizer.ggml.*``), given a ``gguf.GGUFReader``."""
    fields = reader.fields

    def value(key, default=None):
        return fields[key].contents() if key in fields else default

    model = value("tokenizer.ggml.model")
    if model != "gpt2":
        raise ValueError(f"only GPT-2-style byte-level BPE is supported, the GGUF has {model!r}")
    pre = value("tokenizer.ggml.pre", "default")
    if pre not in ("smollm", "gpt2", "default"):
        raise ValueError(f"unsupported GGUF pre-tokenizer {pre!r}")
    tokens = value("tokenizer.ggml.tokens")
    types = value("tokenizer.ggml.token_type", [])
    control = [i for i, t in enumerate(types) if t == GGUF_CONTROL]
    return BPETokenizer(tokens, value("tokenizer.ggml.merges"), control_ids=control, split_digits=pre == "smollm",
                        bos_id=value("tokenizer.ggml.bos_token_id"), eos_id=value("tokenizer.ggml.eos_token_id"))
