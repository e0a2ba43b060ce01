"""A minimal RFB 3.8 client (RFC 6143) over xenith's /api/v1/vms/{id}/vnc
WebSocket, and a PNG writer, for the e2e and real-Xen suites. Standard
library only."""
import os
import struct
import zlib


class RfbError(Exception):
    pass


class RfbClient:
    """RFB over a xenith_client.WebSocket (binary messages)."""

    def __init__(self, ws, timeout=30):
        self.ws = ws
        self.timeout = timeout
        self.buf = b""
        self.width = self.height = 0
        self.name = ""
        self.bpp = 32

    def read(self, n):
        while len(self.buf) < n:
            op, data = self.ws.recv(timeout=self.timeout)
            if op == 8:
                code = int.from_bytes(data[:2], "big") if data else 0
                raise RfbError("websocket closed (%d %r)" % (code, data[2:]))
            if op != 2:
                raise RfbError("not a binary message: opcode %d" % op)
            self.buf += data
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def write(self, data):
        self.ws.send(bytes(data))

    def handshake(self, shared=True):
        """Version, security None, ClientInit; returns ServerInit's
        (width, height, name)."""
        ver = self.read(12)
        if ver != b"RFB 003.008\n":
            raise RfbError("server version %r" % ver)
        self.write(b"RFB 003.008\n")
        n = self.read(1)[0]
        if n == 0:
            raise RfbError("refused: %r" % self.read_reason())
        types = self.read(n)
        if 1 not in types:
            raise RfbError("no security None in %r" % list(types))
        self.write(b"\x01")
        if struct.unpack("!I", self.read(4))[0] != 0:
            raise RfbError("security failed: %r" % self.read_reason())
        self.write(b"\x01" if shared else b"\x00")
        hdr = self.read(24)
        self.width, self.height = struct.unpack("!HH", hdr[:4])
        self.server_format = hdr[4:20]
        self.name = self.read(struct.unpack("!I", hdr[20:24])[0]).decode(
            errors="replace")
        return self.width, self.height, self.name

    def read_reason(self):
        return self.read(struct.unpack("!I", self.read(4))[0])

    def set_pixel_format(self, bpp=32):
        """True colour, little endian: 32 bpp 8:8:8 or 16 bpp 5:6:5."""
        if bpp == 32:
            fmt = struct.pack("!BBBBHHHBBB3x", 32, 24, 0, 1, 255, 255, 255,
                              16, 8, 0)
        else:
            fmt = struct.pack("!BBBBHHHBBB3x", 16, 16, 0, 1, 31, 63, 31,
                              11, 5, 0)
        self.bpp = bpp
        self.write(b"\x00\x00\x00\x00" + fmt)

    def set_encodings(self, encodings=(0,)):
        self.write(struct.pack("!BxH", 2, len(encodings)) +
                   b"".join(struct.pack("!i", e) for e in encodings))

    def request(self, incremental=False, x=0, y=0, w=None, h=None):
        self.write(struct.pack("!BBHHHH", 3, 1 if incremental else 0, x, y,
                               self.width if w is None else w,
                               self.height if h is None else h))

    def key(self, keysym, down=True):
        self.write(struct.pack("!BBxxI", 4, 1 if down else 0, keysym))

    def read_update(self, into=None):
        """Wait for a FramebufferUpdate (Raw rectangles only); paint it
        into `into` (a bytearray of width*height*3 RGB, made if None) and
        return it with the list of rectangles. Other server messages are
        skipped."""
        if into is None:
            into = bytearray(self.width * self.height * 3)
        while True:
            t = self.read(1)[0]
            if t == 0:
                break
            if t == 1:  # SetColourMapEntries
                _, _, n = struct.unpack("!BHH", self.read(5))
                self.read(6 * n)
            elif t == 2:  # Bell
                continue
            elif t == 3:  # ServerCutText
                self.read(3)
                self.read(struct.unpack("!I", self.read(4))[0])
            else:
                raise RfbError("unknown server message %d" % t)
        n = struct.unpack("!xH", self.read(3))[0]
        rects = []
        for _ in range(n):
            x, y, w, h, enc = struct.unpack("!HHHHi", self.read(12))
            if enc != 0:
                raise RfbError("encoding %d, asked for Raw only" % enc)
            data = self.read(w * h * self.bpp // 8)
            self._paint(into, x, y, w, h, data)
            rects.append((x, y, w, h))
        return into, rects

    def _paint(self, into, x, y, w, h, data):
        step = self.bpp // 8
        for row in range(h):
            for col in range(w):
                i = (row * w + col) * step
                v = int.from_bytes(data[i:i + step], "little")
                if step == 4:
                    rgb = ((v >> 16) & 255, (v >> 8) & 255, v & 255)
                else:
                    rgb = (((v >> 11) & 31) * 255 // 31,
                           ((v >> 5) & 63) * 255 // 63, (v & 31) * 255 // 31)
                o = ((y + row) * self.width + x + col) * 3
                into[o:o + 3] = bytes(rgb)


def pixel(rgb, width, x, y):
    o = (y * width + x) * 3
    return tuple(rgb[o:o + 3])


def colours(rgb):
    return {bytes(rgb[i:i + 3]) for i in range(0, len(rgb), 3)}


def write_png(path, width, height, rgb):
    """8-bit RGB PNG, no filter, zlib-compressed."""
    def chunk(kind, data):
        c = kind + data
        return struct.pack("!I", len(data)) + c + struct.pack(
            "!I", zlib.crc32(c) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + bytes(rgb[y * width * 3:(y + 1) * width * 3])
                   for y in range(height))
    png = (b"\x89PNG\r\n\x1a\n" +
           chunk(b"IHDR", struct.pack("!IIBBBBB", width, height, 8, 2, 0, 0,
                                      0)) +
           chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))
    with open(path + ".tmp", "wb") as f:
        f.write(png)
    os.replace(path + ".tmp", path)
