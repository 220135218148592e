"""Is a text that was decoded as Windows-1258 plausibly Vietnamese?

Windows-1258 maps every byte but a few, so decoding never fails and a Latin-1 or Windows-1252
file "succeeds" as mojibake: Latin-1 ``Hòa Bình`` (``ò`` = 0xF2, ``ì`` = 0xEC) becomes
``H`` + combining dot below + ``a B`` + combining acute + ``nh``, which NFC turns into
``Ḥa B́nh``.  Real Vietnamese in Windows-1258 puts its five tone marks (the only combining
characters of the code page) after a vowel, and NFC composes each into one Vietnamese letter.

So the test is: after NFC, the text holds no combining mark, and every non-ASCII letter is a
letter of the Vietnamese alphabet.  Punctuation and symbols of the code page (``“ ” – … °``)
are allowed.

>>> first_implausible(["Hòa Bình"]), first_implausible(["H\\u0323a B\\u0301nh"])
(None, 'Ḥ')
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

__all__ = ["VIETNAMESE_LETTERS", "first_implausible"]

_VOWELS = "aăâeêioôơuưy"
_TONES = ("", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323")
VIETNAMESE_LETTERS: frozenset[str] = frozenset(
    unicodedata.normalize("NFC", letter)
    for base in (*_VOWELS, *_VOWELS.upper())
    for tone in _TONES
    for letter in (unicodedata.normalize("NFD", base) + tone,)
) | frozenset("đĐ")
"""The non-ASCII letters of the Vietnamese alphabet (NFC), upper and lower case."""


def _implausible(char: str) -> bool:
    if char.isascii():
        return False
    if unicodedata.combining(char):
        return True
    return char.isalpha() and char not in VIETNAMESE_LETTERS


def _check(text: str) -> str | None:
    for char in dict.fromkeys(unicodedata.normalize("NFC", text)):  # distinct, in order
        if _implausible(char):
            return char
    return None


def first_implausible(chunks: Iterable[str]) -> str | None:
    """A character showing that ``chunks`` (consecutive pieces of one text) is not Vietnamese,
    or ``None`` when every character is plausible.

    Pieces may split a letter from its combining tone mark: the tail from the last
    non-combining character is carried over to the next piece.
    """
    carry = ""
    for chunk in chunks:
        text = carry + chunk
        cut = len(text)
        while cut > 0 and unicodedata.combining(text[cut - 1]):
            cut -= 1
        cut = max(cut - 1, 0)  # keep the base letter with its marks
        text, carry = text[:cut], text[cut:]
        if (found := _check(text)) is not None:
            return found
    return _check(carry)
