"""Read a StepML tensor file (.tensor, magic SMLT) into a NumPy array, verifying every checksum.

Usage: python3 smlt_reader.py FILE   (prints shape, round and the first values)
Layout: README.md, "Tensor files". Values sit in blocks, each followed by its CRC32C, so a plain
np.fromfile(offset=64) is wrong as soon as a tensor has more than one block (16,384 values).
"""
import struct
import sys

import numpy as np

_TABLE = []
for _n in range(256):
    _c = _n
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _TABLE.append(_c)


def crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def read_smlt(path, verify=True):
    """Returns (values shaped as stored, round)."""
    data = open(path, "rb").read()
    magic, version, dtype, rank = struct.unpack_from("<4sHHI", data, 0)
    if magic != b"SMLT" or version != 1 or dtype != 1:
        raise ValueError(f"{path}: not a version-1 float32 SMLT tensor")
    dims = struct.unpack_from("<4I", data, 12)[:rank]
    count, round_, block, blocks = struct.unpack_from("<qqII", data, 28)
    if verify and crc32c(data[:60]) != struct.unpack_from("<I", data, 60)[0]:
        raise ValueError(f"{path}: header checksum mismatch")
    values = np.empty(count, dtype="<f4")
    offset = 64
    for b in range(blocks):
        n = min(block, count - b * block)
        payload = data[offset:offset + 4 * n]
        if verify and crc32c(payload) != struct.unpack_from("<I", data, offset + 4 * n)[0]:
            raise ValueError(f"{path}: block {b} checksum mismatch")
        values[b * block:b * block + n] = np.frombuffer(payload, dtype="<f4")
        offset += 4 * n + 4
    if offset != len(data):
        raise ValueError(f"{path}: {len(data)} bytes, the header describes {offset}")
    return values.reshape(dims), round_


if __name__ == "__main__":
    array, round_ = read_smlt(sys.argv[1])
    print(f"shape {array.shape}, round {round_}, first values {array.ravel()[:5]}")
