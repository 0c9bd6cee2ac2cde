/* layout.h: byte layouts of the program's accounts (borsh, as idl.json describes them), limits, and
 * the SPL Token account fields the program reads. */
#ifndef GIFT_POOL_LAYOUT_H
#define GIFT_POOL_LAYOUT_H

/* Config: disc(8) admin(32) verifier(32) treasury(32) creator_count(u64) fee_bps(u16) paused(bool) bump(u8) */
#define CFG_ADMIN 8
#define CFG_VERIFIER 40
#define CFG_TREASURY 72
#define CFG_CREATORS 104
#define CFG_FEE 112
#define CFG_PAUSED 114
#define CFG_BUMP 115
#define CONFIG_SIZE 116

/* Creator: disc(8) handle_key([u8;32]) authority(32) sol_received(u64) sol_withdrawn(u64) gift_count(u64)
 *          bound(bool) bump(u8) platform(string) handle(string); allocated for the longest names. */
#define CR_KEY 8
#define CR_AUTH 40
#define CR_SOL_RECEIVED 72
#define CR_SOL_WITHDRAWN 80
#define CR_GIFTS 88
#define CR_BOUND 96
#define CR_BUMP 97
#define CR_PLATFORM 98
#define PLATFORM_MAX 16
#define HANDLE_MAX 32
#define CREATOR_SIZE (CR_PLATFORM + 4 + PLATFORM_MAX + 4 + HANDLE_MAX)

#define MAX_FEE_BPS 1000
#define MEMO_MAX 64
#define POST_ID_MAX 64

/* SPL Token account: mint(32) owner(32) amount(u64) ... state(u8 at 108), 165 bytes. */
#define TA_MINT 0
#define TA_OWNER 32
#define TA_AMOUNT 64
#define TA_STATE 108
#define TOKEN_ACCOUNT_SIZE 165

static const u8 TOKEN_PROGRAM_ID[32] = {6,   221, 246, 225, 215, 101, 161, 147, 217, 203, 225,
                                        70,  206, 235, 121, 172, 28,  180, 133, 237, 95,  91,
                                        55,  145, 58,  140, 245, 133, 126, 255, 0,   169};
static const u8 ATA_PROGRAM_ID[32] = {140, 151, 37,  143, 78,  36,  137, 241, 187, 61,  16,
                                      41,  20,  142, 13,  131, 11,  90,  19,  153, 218, 255,
                                      16,  132, 4,   142, 123, 216, 219, 233, 248, 89};

/* Bytes of the borsh-encoded platform and handle strings stored at CR_PLATFORM. */
INLINE u64 creator_names_len(const u8 *d) {
  u64 pl = ld32(d + CR_PLATFORM);
  return 4 + pl + 4 + ld32(d + CR_PLATFORM + 4 + pl);
}

#endif
