"""Recomputes an .fmc header's checksum (runtime/ArtifactChecksum.h) after
a test edited the header on purpose: a crafted file passes the checksum, so
the runtime's validation itself must reject what the edit broke.

    seal(data)  # data: bytearray of the whole file (or at least its header)
"""

import struct

import xxhash

PREFIX = 4  # size prefix before the FlatBuffer
CHECKSUMS = 4 + 2 * 11  # vtable offset of Artifact.checksums (field 11)


def checksums_at(data):
    """Where the Checksums struct lies in `data` (absolute), or None."""
    table = PREFIX + struct.unpack_from("<I", data, PREFIX)[0]
    vtable = table - struct.unpack_from("<i", data, table)[0]
    if CHECKSUMS >= struct.unpack_from("<H", data, vtable)[0]:
        return None
    at = struct.unpack_from("<H", data, vtable + CHECKSUMS)[0]
    return table + at if at else None


def seal(data):
    header = PREFIX + struct.unpack_from("<I", data, 0)[0]
    at = checksums_at(data)
    if at is None or header > len(data):
        return data
    data[at:at + 8] = bytes(8)
    struct.pack_into("<Q", data, at, xxhash.xxh3_64_intdigest(bytes(data[:header])))
    return data
