/* sol.h: the small slice of the Solana ABI the gift pool needs, for clang -target bpfel (SBPF v0).
 *
 * - input: the aligned serialization BPF Loader 2 / the upgradeable loader pass to the entrypoint;
 * - syscalls: declared extern; the post-linker (postlink.py) turns each call into `call -1` plus a
 *   dynamic R_BPF_64_32 relocation against the name, which the loader hashes (murmur3);
 * - CPI: the C ABI structures of sol_invoke_signed_c.
 * No mutable globals, no floats, at most five arguments per call (BPF backend limits).
 */
#ifndef GIFT_POOL_SOL_H
#define GIFT_POOL_SOL_H

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef long long i64;
typedef _Bool bool;
#define true 1
#define false 0
#define NULL ((void *)0)

#define INLINE static inline __attribute__((always_inline))
#define NOINLINE static __attribute__((noinline))

/* The 32 KiB heap: big scratch buffers live here because a BPF frame holds at most 512 bytes. */
#define HEAP_START ((u8 *)0x300000000ULL)
#define MAX_PERMITTED_DATA_INCREASE 10240
#define NON_DUP_MARKER 0xff

/* ---- syscalls ---- */
typedef struct {
  const u8 *addr;
  u64 len;
} SolBytes; /* also a signer seed */

typedef struct {
  const SolBytes *addr;
  u64 len;
} SolSignerSeeds;

typedef struct {
  const u8 *key;
  u64 *lamports;
  u64 data_len;
  u8 *data;
  const u8 *owner;
  u64 rent_epoch;
  bool is_signer;
  bool is_writable;
  bool executable;
} SolAccountInfo;

typedef struct {
  const u8 *pubkey;
  bool is_writable;
  bool is_signer;
} SolAccountMeta;

typedef struct {
  const u8 *program_id;
  const SolAccountMeta *accounts;
  u64 account_len;
  const u8 *data;
  u64 data_len;
} SolInstruction;

extern void sol_log_(const char *msg, u64 len);
extern void sol_log_data(const SolBytes *slices, u64 n);
extern u64 sol_sha256(const SolBytes *slices, u64 n, u8 *out32);
extern u64 sol_try_find_program_address(const SolBytes *seeds, u64 n, const u8 *program_id, u8 *out32, u8 *bump);
extern u64 sol_create_program_address(const SolBytes *seeds, u64 n, const u8 *program_id, u8 *out32);
extern u64 sol_invoke_signed_c(const SolInstruction *ix, const SolAccountInfo *infos, u64 n_infos,
                               const SolSignerSeeds *signers, u64 n_signers);
extern u64 sol_get_clock_sysvar(u8 *out40);
extern u64 sol_get_rent_sysvar(u8 *out17);
extern void sol_memcpy_(void *dst, const void *src, u64 n);
extern void sol_memset_(void *dst, int c, u64 n);
extern void sol_memcmp_(const void *a, const void *b, u64 n, int *result);

INLINE void copy(void *dst, const void *src, u64 n) { sol_memcpy_(dst, src, n); }

INLINE bool key_eq(const u8 *a, const u8 *b) {
  int r = 0;
  sol_memcmp_(a, b, 32, &r);
  return r == 0;
}


/* Little-endian loads and stores at any address. The SBPF VM allows unaligned access (its loads and
 * stores are byte-addressed), so a single ldx/stx is used even where borsh packs fields unaligned;
 * may_alias keeps the compiler from assuming the bytes are not also accessed as u8. */
typedef u64 __attribute__((may_alias)) u64_a;
typedef u32 __attribute__((may_alias)) u32_a;
typedef u16 __attribute__((may_alias)) u16_a;
INLINE u64 ld64(const u8 *p) { return *(const u64_a *)p; }
INLINE u32 ld32(const u8 *p) { return *(const u32_a *)p; }
INLINE u16 ld16(const u8 *p) { return *(const u16_a *)p; }
INLINE void st64(u8 *p, u64 v) { *(u64_a *)p = v; }
INLINE void st32(u8 *p, u32 v) { *(u32_a *)p = v; }
INLINE void st16(u8 *p, u16 v) { *(u16_a *)p = v; }

INLINE bool is_zero_key(const u8 *a) {
  return (ld64(a) | ld64(a + 8) | ld64(a + 16) | ld64(a + 24)) == 0;
}

INLINE void log_str(const char *s, u64 n) { sol_log_(s, n); }
#define LOG(lit) sol_log_((lit), sizeof(lit) - 1)

/* ---- the serialized input (aligned layout) ----
 * per account: dup(1) signer(1) writable(1) executable(1) pad(4) key(32) owner(32) lamports(8)
 *              data_len(8) data(data_len) spare(10240) align8 rent_epoch(8)
 * A duplicate is dup(1)=index of the first occurrence, pad(7). */
typedef struct {
  u8 *hdr; /* the account's serialized record in the input buffer (first occurrence) */
  u64 rent_epoch;
} Acc;

INLINE const u8 *acc_key(const Acc *a) { return a->hdr + 8; }
INLINE const u8 *acc_owner(const Acc *a) { return a->hdr + 40; }
INLINE u64 *acc_lamports(const Acc *a) { return (u64 *)(a->hdr + 72); }
INLINE u64 acc_data_len(const Acc *a) { return *(u64 *)(a->hdr + 80); }
INLINE u8 *acc_data(const Acc *a) { return a->hdr + 88; }
INLINE bool acc_signer(const Acc *a) { return a->hdr[1] != 0; }
INLINE bool acc_writable(const Acc *a) { return a->hdr[2] != 0; }

INLINE void acc_info(SolAccountInfo *info, const Acc *a) {
  info->key = a->hdr + 8;
  info->lamports = (u64 *)(a->hdr + 72);
  info->data_len = *(u64 *)(a->hdr + 80);
  info->data = a->hdr + 88;
  info->owner = a->hdr + 40;
  info->rent_epoch = a->rent_epoch;
  info->is_signer = a->hdr[1] != 0;
  info->is_writable = a->hdr[2] != 0;
  info->executable = a->hdr[3] != 0;
}

#define MAX_ACCOUNTS 64

typedef struct {
  Acc *accs; /* on the heap */
  u64 n_accs;
  const u8 *data;
  u64 data_len;
  const u8 *program_id;
} Input;

/* Parses the loader's input into `in`; returns false when it holds more accounts than we accept. */
INLINE bool parse_input(u8 *input, Input *in) {
  u64 n = *(u64 *)input;
  u8 *p = input + 8;
  in->accs = (Acc *)HEAP_START;
  if (n > MAX_ACCOUNTS) return false;
  for (u64 i = 0; i < n; i++) {
    if (p[0] == NON_DUP_MARKER) {
      u64 dlen = *(u64 *)(p + 80);
      u64 end = 88 + dlen + MAX_PERMITTED_DATA_INCREASE;
      end = (end + 7) & ~7ULL;
      in->accs[i].hdr = p;
      in->accs[i].rent_epoch = *(u64 *)(p + end);
      p += end + 8;
    } else {
      in->accs[i] = in->accs[p[0]];
      p += 8;
    }
  }
  in->n_accs = n;
  in->data_len = *(u64 *)p;
  in->data = p + 8;
  in->program_id = p + 8 + in->data_len;
  return true;
}

#endif
