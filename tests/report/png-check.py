#!/usr/bin/env python3
"""Check that PNG files are whole, decodable and not blank (the dashboard test).

    png-check.py [--min-ink PCT] [--min-colours N] [--size WxH] FILE...
    png-check.py --expect-blank FILE        exit 0 only if FILE is blank (a negative control)
    png-check.py --has RRGGBB[:N] FILE...   also: at least N pixels (default 20) of exactly that
                                            colour (a chart's mark: its bar or symbol)
    png-check.py --lacks RRGGBB FILE...     also: no pixel of exactly that colour

Per file: the PNG signature, every chunk's CRC, IHDR, IDAT and IEND present, the pixel
data inflates to exactly height x (1 + row bytes) and every row's filter is undone. Then
"not blank": at least --min-colours distinct pixel values (default 8) and at least
--min-ink percent of the pixels (default 0.5) differ from the most common one (the
background). One line per file; exit 1 if any file fails. Standard library only.
"""
import argparse
import struct
import sys
import zlib
from collections import Counter


def read_png(path):
    """(width, height, channels, rows) with rows the unfiltered pixel rows (8-bit,
    non-interlaced images), or rows None for other bit depths (checked structurally)."""
    with open(path, 'rb') as f:
        data = f.read()
    if data[:8] != b'\x89PNG\r\n\x1a\n':
        raise ValueError('no PNG signature (%d bytes)' % len(data))
    pos, idat, ihdr, end = 8, [], None, False
    while pos + 12 <= len(data):
        n, = struct.unpack('>I', data[pos:pos + 4])
        typ, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        if pos + 12 + n > len(data):
            raise ValueError('truncated %r chunk' % typ)
        crc, = struct.unpack('>I', data[pos + 8 + n:pos + 12 + n])
        if zlib.crc32(typ + body) & 0xffffffff != crc:
            raise ValueError('bad CRC in the %r chunk' % typ)
        if typ == b'IHDR':
            ihdr = struct.unpack('>IIBBBBB', body)
        elif typ == b'IDAT':
            idat.append(body)
        elif typ == b'IEND':
            end = True
            break
        pos += 12 + n
    if not ihdr or not idat or not end:
        raise ValueError('missing IHDR, IDAT or IEND')
    w, h, depth, ctype, _, _, interlace = ihdr
    if w == 0 or h == 0:
        raise ValueError('empty image %dx%d' % (w, h))
    raw = zlib.decompress(b''.join(idat))
    ch = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}.get(ctype)
    if ch is None:
        raise ValueError('bad colour type %d' % ctype)
    if depth != 8 or interlace:
        return w, h, ch, None
    stride = w * ch
    if len(raw) != h * (stride + 1):
        raise ValueError('pixel data is %d bytes, expected %d' % (len(raw), h * (stride + 1)))
    prev = bytearray(stride)
    rows = []
    for y in range(h):
        f = raw[y * (stride + 1)]
        cur = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if f == 1:
            for x in range(ch, stride):
                cur[x] = (cur[x] + cur[x - ch]) & 255
        elif f == 2:
            cur = bytearray((a + b) & 255 for a, b in zip(cur, prev))
        elif f == 3:
            for x in range(stride):
                left = cur[x - ch] if x >= ch else 0
                cur[x] = (cur[x] + ((left + prev[x]) >> 1)) & 255
        elif f == 4:
            for x in range(stride):
                a = cur[x - ch] if x >= ch else 0
                b = prev[x]
                c = prev[x - ch] if x >= ch else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                cur[x] = (cur[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        elif f != 0:
            raise ValueError('row %d: bad filter type %d' % (y, f))
        rows.append(bytes(cur))
        prev = cur
    return w, h, ch, rows


def ink(rows, ch):
    """(distinct pixel values, percent of pixels unlike the most common one)."""
    counts = Counter()
    for row in rows:
        counts.update(row[i:i + ch] for i in range(0, len(row), ch))
    total = sum(counts.values())
    _, bg = counts.most_common(1)[0]
    return len(counts), 100.0 * (total - bg) / total


def colour_count(rows, ch, rgb):
    """Pixels of exactly the colour rgb (3 bytes), alpha ignored."""
    n = 0
    for row in rows:
        for i in range(0, len(row), ch):
            if row[i:i + 3] == rgb:
                n += 1
    return n


def parse_colour(text):
    hexpart, _, need = text.partition(':')
    if len(hexpart) != 6:
        raise argparse.ArgumentTypeError('colour %r is not RRGGBB' % text)
    return bytes.fromhex(hexpart), int(need) if need else 20


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--min-ink', type=float, default=0.5)
    ap.add_argument('--min-colours', type=int, default=8)
    ap.add_argument('--size')
    ap.add_argument('--expect-blank', action='store_true')
    ap.add_argument('--has', type=parse_colour, action='append', default=[])
    ap.add_argument('--lacks', type=parse_colour, action='append', default=[])
    ap.add_argument('files', nargs='+')
    a = ap.parse_args()
    failed = 0
    for path in a.files:
        try:
            w, h, ch, rows = read_png(path)
            problems = []
            if a.size and '%dx%d' % (w, h) != a.size:
                problems.append('size %dx%d, expected %s' % (w, h, a.size))
            desc = '%dx%d' % (w, h)
            if rows is not None:
                colours, pct = ink(rows, ch)
                desc += ', %d colours, %.1f%% unlike the background' % (colours, pct)
                blank = colours < a.min_colours or pct < a.min_ink
                if blank and not a.expect_blank:
                    problems.append('blank (fewer than %d colours or under %.1f%% ink)' % (a.min_colours, a.min_ink))
                if not blank and a.expect_blank:
                    problems.append('not blank')
            elif a.expect_blank:
                problems.append('cannot tell (not an 8-bit image)')
            if (a.has or a.lacks) and (rows is None or ch < 3):
                problems.append('cannot count colours (not an 8-bit RGB image)')
            elif a.has or a.lacks:
                for rgb, need in a.has:
                    n = colour_count(rows, ch, rgb)
                    desc += ', #%s: %d px' % (rgb.hex(), n)
                    if n < need:
                        problems.append('fewer than %d pixels of #%s' % (need, rgb.hex()))
                for rgb, _ in a.lacks:
                    n = colour_count(rows, ch, rgb)
                    desc += ', #%s: %d px' % (rgb.hex(), n)
                    if n:
                        problems.append('%d pixels of #%s, expected none' % (n, rgb.hex()))
        except (OSError, ValueError, zlib.error) as e:
            problems, desc = [str(e)], 'unreadable'
        if problems:
            failed += 1
            print('FAIL %s: %s: %s' % (path, desc, '; '.join(problems)))
        else:
            print('ok   %s: %s' % (path, desc))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
