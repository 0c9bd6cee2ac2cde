/* io.h: borsh reading of instruction data, borsh writing of events, sysvars. */
#ifndef GIFT_POOL_IO_H
#define GIFT_POOL_IO_H

#define EVT_BUF (HEAP_START + 0x400)

typedef struct {
  const u8 *ptr;
  u32 len;
} Str;

/* ---- reading (instruction arguments) ---- */
typedef struct {
  const u8 *p;
  u64 left;
} Rd;

INLINE bool rd_u64(Rd *r, u64 *v) {
  if (r->left < 8) return false;
  *v = ld64(r->p);
  r->p += 8;
  r->left -= 8;
  return true;
}
INLINE bool rd_u32(Rd *r, u32 *v) {
  if (r->left < 4) return false;
  *v = ld32(r->p);
  r->p += 4;
  r->left -= 4;
  return true;
}
INLINE bool rd_u16(Rd *r, u16 *v) {
  if (r->left < 2) return false;
  *v = ld16(r->p);
  r->p += 2;
  r->left -= 2;
  return true;
}
INLINE bool rd_u8(Rd *r, u8 *v) {
  if (r->left < 1) return false;
  *v = r->p[0];
  r->p += 1;
  r->left -= 1;
  return true;
}
INLINE bool rd_key(Rd *r, const u8 **k) {
  if (r->left < 32) return false;
  *k = r->p;
  r->p += 32;
  r->left -= 32;
  return true;
}
INLINE bool rd_str(Rd *r, Str *s) {
  u32 n;
  if (!rd_u32(r, &n) || r->left < n) return false;
  s->ptr = r->p;
  s->len = n;
  r->p += n;
  r->left -= n;
  return true;
}

/* ---- writing (events, account strings) ---- */
typedef struct {
  u8 *buf;
  u64 len;
} Wr;

INLINE void w_raw(Wr *w, const u8 *src, u64 n) {
  copy(w->buf + w->len, src, n);
  w->len += n;
}
INLINE void w_u64(Wr *w, u64 v) {
  st64(w->buf + w->len, v);
  w->len += 8;
}
INLINE void w_i64(Wr *w, i64 v) { w_u64(w, (u64)v); }
INLINE void w_u32(Wr *w, u32 v) {
  st32(w->buf + w->len, v);
  w->len += 4;
}
INLINE void w_u16(Wr *w, u16 v) {
  st16(w->buf + w->len, v);
  w->len += 2;
}
INLINE void w_u8(Wr *w, u8 v) { w->buf[w->len++] = v; }
INLINE void w_key(Wr *w, const u8 *k) { w_raw(w, k, 32); }
INLINE void w_str(Wr *w, const Str *s) {
  w_u32(w, s->len);
  w_raw(w, s->ptr, s->len);
}
/* Option<Pubkey>: NULL is None. */
INLINE void w_opt_key(Wr *w, const u8 *k) {
  if (k == NULL) {
    w_u8(w, 0);
  } else {
    w_u8(w, 1);
    w_key(w, k);
  }
}

/* An event is one sol_log_data slice: discriminator || borsh fields (what Anchor's emit! logs). */
INLINE void emit(const Wr *w) {
  SolBytes b = {w->buf, w->len};
  sol_log_data(&b, 1);
}

/* ---- sysvars ---- */
NOINLINE i64 now(void) {
  u8 clock[40];
  sol_get_clock_sysvar(clock);
  return (i64)ld64(clock + 32); /* unix_timestamp */
}

/* The rent-exempt minimum for `len` data bytes: (128 + len) * lamports_per_byte_year * threshold. The
 * threshold is an f64 in the sysvar; without floats we accept the values the clusters use (2.0, 1.0). */
NOINLINE u64 rent_minimum(u64 len, u64 *out) {
  u8 rent[24];
  sol_get_rent_sysvar(rent);
  u64 per_byte = ld64(rent), threshold = ld64(rent + 8);
  u64 base = (128 + len) * per_byte;
  if (threshold == 0x4000000000000000ULL) {
    *out = base * 2;
  } else if (threshold == 0x3FF0000000000000ULL) {
    *out = base;
  } else {
    return E_INVALID_ACCOUNT;
  }
  return 0;
}

/* ConfigUpdated { admin, previous_admin, verifier, previous_verifier, treasury, fee_bps,
 *                 previous_fee_bps, timestamp } from the config data after the change. */
typedef struct {
  const u8 *previous_admin;
  const u8 *previous_verifier;
  u16 previous_fee_bps;
} ConfigChange;

NOINLINE void emit_config_updated(const u8 *cfg, const ConfigChange *ch) {
  Wr w = {EVT_BUF, 0};
  w_u64(&w, EV_CONFIG_UPDATED);
  w_key(&w, cfg + CFG_ADMIN);
  w_key(&w, ch->previous_admin);
  w_key(&w, cfg + CFG_VERIFIER);
  w_key(&w, ch->previous_verifier);
  w_key(&w, cfg + CFG_TREASURY);
  w_u16(&w, ld16(cfg + CFG_FEE));
  w_u16(&w, ch->previous_fee_bps);
  w_i64(&w, now());
  emit(&w);
}

#endif
