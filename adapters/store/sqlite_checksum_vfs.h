#pragma once
// Page checksums for the state store. SQLite's own checks (quick_check)
// see damage to the file's structure, not to the values in it: a flipped
// byte in a room id or an archive date reads back as a different, valid
// value. So every page of a store carries a checksum in the 8 bytes SQLite
// reserves at its end (SQLITE_FCNTL_RESERVE_BYTES), written by this VFS on
// each page write and verified on each page read; a page that fails reads
// as SQLITE_IOERR_DATA. Files whose header reserves no 8 bytes (other
// programs' databases, stores from before checksums) are read and written
// as they are. The WAL is left to SQLite, whose frames carry checksums of
// their own; pages get theirs when checkpointed into the file. A page
// written by another program (the sqlite3 shell) has no valid checksum, so
// the store must be written through this VFS only. Private to the SQLite
// store and its tests.

#include <cstddef>
#include <cstdint>

namespace adapters::sqlite {

/// Bytes reserved at the end of each page for the checksum.
inline constexpr int k_checksum_bytes = 8;

/// The name of the checksumming VFS (over the platform's default one),
/// registered on the first call; give it to sqlite3_open_v2.
const char* checksum_vfs();

/// The checksum of page `page_number` (1-based) whose content, without the
/// reserved bytes, is `data[0..size)`.
std::uint64_t page_checksum(const unsigned char* data, std::size_t size, std::int64_t page_number);

}  // namespace adapters::sqlite
