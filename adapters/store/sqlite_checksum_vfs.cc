// A shim VFS: the main database file's pages are checksummed on write and
// verified on read; every other file (WAL, journals, temp files) is opened
// by the default VFS directly.

#include "adapters/store/sqlite_checksum_vfs.h"

#include <sqlite3.h>

#include <cstring>
#include <mutex>
#include <vector>

namespace adapters::sqlite {

namespace {

// The database header fields this VFS reads (sqlite.org/fileformat.html).
constexpr int k_header_page_size = 16;  // 2 bytes, big-endian; 1 means 65536
constexpr int k_header_reserve = 20;    // 1 byte: bytes reserved per page
constexpr int k_header_bytes = 24;

struct ChecksumFile {
  sqlite3_file base;  // first, so SQLite's sqlite3_file* is this object
  sqlite3_file* real;
  // From the last header read or written: the pages carry checksums, and
  // how large they are.
  bool checksummed;
  int page_size;
};

// The real file lives right after ours in the memory SQLite allocates.
constexpr std::size_t k_file_size = (sizeof(ChecksumFile) + 7) & ~std::size_t(7);

sqlite3_vfs* g_root = nullptr;
sqlite3_vfs g_vfs;
sqlite3_io_methods g_methods;

ChecksumFile* as_file(sqlite3_file* file) { return reinterpret_cast<ChecksumFile*>(file); }

std::uint64_t load_le64(const unsigned char* p) {
  std::uint64_t value = 0;
  for (int i = 7; i >= 0; --i) {
    value = (value << 8) | p[i];
  }
  return value;
}

void store_le64(unsigned char* p, std::uint64_t value) {
  for (int i = 0; i < 8; ++i) {
    p[i] = static_cast<unsigned char>(value >> (8 * i));
  }
}

void note_header(ChecksumFile& file, const unsigned char* header) {
  const int size = (header[k_header_page_size] << 8) | header[k_header_page_size + 1];
  file.page_size = size == 1 ? 65536 : size;
  file.checksummed = header[k_header_reserve] == k_checksum_bytes;
}

// Whether a transfer of `amount` bytes at `offset` is one whole page of a
// checksummed file, and which.
std::int64_t whole_page(const ChecksumFile& file, int amount, sqlite3_int64 offset) {
  if (!file.checksummed || file.page_size <= k_checksum_bytes || amount != file.page_size ||
      offset % file.page_size != 0) {
    return 0;
  }
  return offset / file.page_size + 1;
}

int x_close(sqlite3_file* file) { return as_file(file)->real->pMethods->xClose(as_file(file)->real); }

int x_read(sqlite3_file* handle, void* buffer, int amount, sqlite3_int64 offset) {
  ChecksumFile& file = *as_file(handle);
  const int rc = file.real->pMethods->xRead(file.real, buffer, amount, offset);
  if (rc != SQLITE_OK) {
    return rc;  // a short read (past the end) has nothing to verify
  }
  const auto* data = static_cast<const unsigned char*>(buffer);
  if (offset == 0 && amount >= k_header_bytes) {
    note_header(file, data);
  }
  if (const std::int64_t page = whole_page(file, amount, offset); page > 0) {
    const std::size_t content = static_cast<std::size_t>(amount - k_checksum_bytes);
    if (page_checksum(data, content, page) != load_le64(data + content)) {
      return SQLITE_IOERR_DATA;
    }
  }
  return SQLITE_OK;
}

int x_write(sqlite3_file* handle, const void* buffer, int amount, sqlite3_int64 offset) {
  ChecksumFile& file = *as_file(handle);
  const auto* data = static_cast<const unsigned char*>(buffer);
  if (offset == 0 && amount >= k_header_bytes) {
    note_header(file, data);
  }
  const std::int64_t page = whole_page(file, amount, offset);
  if (page == 0) {
    return file.real->pMethods->xWrite(file.real, buffer, amount, offset);
  }
  // A copy: the buffer is SQLite's page cache, which it does not expect
  // anyone to write to.
  thread_local std::vector<unsigned char> copy;
  copy.assign(data, data + amount);
  const std::size_t content = static_cast<std::size_t>(amount - k_checksum_bytes);
  store_le64(copy.data() + content, page_checksum(copy.data(), content, page));
  return file.real->pMethods->xWrite(file.real, copy.data(), amount, offset);
}

int x_truncate(sqlite3_file* f, sqlite3_int64 size) { return as_file(f)->real->pMethods->xTruncate(as_file(f)->real, size); }
int x_sync(sqlite3_file* f, int flags) { return as_file(f)->real->pMethods->xSync(as_file(f)->real, flags); }
int x_file_size(sqlite3_file* f, sqlite3_int64* size) {
  return as_file(f)->real->pMethods->xFileSize(as_file(f)->real, size);
}
int x_lock(sqlite3_file* f, int level) { return as_file(f)->real->pMethods->xLock(as_file(f)->real, level); }
int x_unlock(sqlite3_file* f, int level) { return as_file(f)->real->pMethods->xUnlock(as_file(f)->real, level); }
int x_check_reserved_lock(sqlite3_file* f, int* out) {
  return as_file(f)->real->pMethods->xCheckReservedLock(as_file(f)->real, out);
}
int x_file_control(sqlite3_file* f, int op, void* arg) {
  return as_file(f)->real->pMethods->xFileControl(as_file(f)->real, op, arg);
}
int x_sector_size(sqlite3_file* f) { return as_file(f)->real->pMethods->xSectorSize(as_file(f)->real); }
int x_device_characteristics(sqlite3_file* f) {
  return as_file(f)->real->pMethods->xDeviceCharacteristics(as_file(f)->real);
}
int x_shm_map(sqlite3_file* f, int region, int size, int extend, void volatile** out) {
  return as_file(f)->real->pMethods->xShmMap(as_file(f)->real, region, size, extend, out);
}
int x_shm_lock(sqlite3_file* f, int offset, int n, int flags) {
  return as_file(f)->real->pMethods->xShmLock(as_file(f)->real, offset, n, flags);
}
void x_shm_barrier(sqlite3_file* f) { as_file(f)->real->pMethods->xShmBarrier(as_file(f)->real); }
int x_shm_unmap(sqlite3_file* f, int delete_flag) {
  return as_file(f)->real->pMethods->xShmUnmap(as_file(f)->real, delete_flag);
}
// Memory-mapped pages would bypass x_read and its verification: declined,
// so SQLite reads them with x_read.
int x_fetch(sqlite3_file*, sqlite3_int64, int, void** out) {
  *out = nullptr;
  return SQLITE_OK;
}
int x_unfetch(sqlite3_file*, sqlite3_int64, void*) { return SQLITE_OK; }

int x_open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* handle, int flags, int* out_flags) {
  if ((flags & SQLITE_OPEN_MAIN_DB) == 0) {
    // Our allocation is larger than the default VFS's: it fits.
    return g_root->xOpen(g_root, name, handle, flags, out_flags);
  }
  ChecksumFile& file = *as_file(handle);
  std::memset(&file, 0, sizeof file);
  file.real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(handle) + k_file_size);
  const int rc = g_root->xOpen(g_root, name, file.real, flags, out_flags);
  if (rc != SQLITE_OK) {
    return rc;  // base.pMethods stays null: SQLite will not call x_close
  }
  // The methods are version 3 (WAL's shared memory, mmap), as the default
  // unix VFS's are.
  file.base.pMethods = &g_methods;
  return SQLITE_OK;
}

int x_delete(sqlite3_vfs*, const char* name, int sync_dir) { return g_root->xDelete(g_root, name, sync_dir); }
int x_access(sqlite3_vfs*, const char* name, int flags, int* out) { return g_root->xAccess(g_root, name, flags, out); }
int x_full_pathname(sqlite3_vfs*, const char* name, int size, char* out) {
  return g_root->xFullPathname(g_root, name, size, out);
}
void* x_dl_open(sqlite3_vfs*, const char* name) { return g_root->xDlOpen(g_root, name); }
void x_dl_error(sqlite3_vfs*, int size, char* out) { g_root->xDlError(g_root, size, out); }
void (*x_dl_sym(sqlite3_vfs*, void* handle, const char* symbol))(void) { return g_root->xDlSym(g_root, handle, symbol); }
void x_dl_close(sqlite3_vfs*, void* handle) { g_root->xDlClose(g_root, handle); }
int x_randomness(sqlite3_vfs*, int size, char* out) { return g_root->xRandomness(g_root, size, out); }
int x_sleep(sqlite3_vfs*, int micros) { return g_root->xSleep(g_root, micros); }
int x_current_time(sqlite3_vfs*, double* out) { return g_root->xCurrentTime(g_root, out); }
int x_get_last_error(sqlite3_vfs*, int size, char* out) { return g_root->xGetLastError(g_root, size, out); }
int x_current_time_int64(sqlite3_vfs*, sqlite3_int64* out) { return g_root->xCurrentTimeInt64(g_root, out); }

void register_vfs() {
  g_root = sqlite3_vfs_find(nullptr);
  g_methods = sqlite3_io_methods{3,
                                 x_close,
                                 x_read,
                                 x_write,
                                 x_truncate,
                                 x_sync,
                                 x_file_size,
                                 x_lock,
                                 x_unlock,
                                 x_check_reserved_lock,
                                 x_file_control,
                                 x_sector_size,
                                 x_device_characteristics,
                                 x_shm_map,
                                 x_shm_lock,
                                 x_shm_barrier,
                                 x_shm_unmap,
                                 x_fetch,
                                 x_unfetch};
  g_vfs = sqlite3_vfs{};
  g_vfs.iVersion = 2;
  g_vfs.szOsFile = static_cast<int>(k_file_size) + g_root->szOsFile;
  g_vfs.mxPathname = g_root->mxPathname;
  g_vfs.zName = "mxctl-checksum";
  g_vfs.xOpen = x_open;
  g_vfs.xDelete = x_delete;
  g_vfs.xAccess = x_access;
  g_vfs.xFullPathname = x_full_pathname;
  g_vfs.xDlOpen = x_dl_open;
  g_vfs.xDlError = x_dl_error;
  g_vfs.xDlSym = x_dl_sym;
  g_vfs.xDlClose = x_dl_close;
  g_vfs.xRandomness = x_randomness;
  g_vfs.xSleep = x_sleep;
  g_vfs.xCurrentTime = x_current_time;
  g_vfs.xGetLastError = x_get_last_error;
  g_vfs.xCurrentTimeInt64 = x_current_time_int64;
  sqlite3_vfs_register(&g_vfs, 0);
}

}  // namespace

std::uint64_t page_checksum(const unsigned char* data, std::size_t size, std::int64_t page_number) {
  // Two multiply-xorshift lanes over 8-byte words: every bit of the page
  // and its number reaches the result, at memory speed.
  std::uint64_t a = 0x9e3779b97f4a7c15ULL ^ static_cast<std::uint64_t>(page_number);
  std::uint64_t b = 0xc2b2ae3d27d4eb4fULL ^ static_cast<std::uint64_t>(size);
  std::size_t i = 0;
  for (; i + 16 <= size; i += 16) {
    a = (a ^ load_le64(data + i)) * 0xff51afd7ed558ccdULL;
    a ^= a >> 32;
    b = (b ^ load_le64(data + i + 8)) * 0xc4ceb9fe1a85ec53ULL;
    b ^= b >> 29;
  }
  for (; i < size; ++i) {
    a = (a ^ data[i]) * 0x100000001b3ULL;
  }
  std::uint64_t h = a ^ (b * 0x9e3779b97f4a7c15ULL);
  h ^= h >> 31;
  h *= 0xd6e8feb86659fd93ULL;
  return h ^ (h >> 32);
}

const char* checksum_vfs() {
  static std::once_flag once;
  std::call_once(once, register_vfs);
  return "mxctl-checksum";
}

}  // namespace adapters::sqlite
