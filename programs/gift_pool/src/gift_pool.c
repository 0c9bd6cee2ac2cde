/* gift_pool.c: the MEMEFANS gift pool, an Anchor-compatible Solana program written in C.
 *
 * Fans gift SOL or SPL tokens to creators identified by (platform, handle). Each creator has a PDA
 * ["creator", sha256(platform ":" lowercase(handle))] that holds its SOL above the rent-exempt minimum
 * (and owns one token vault per mint, the associated token account). A verifier binds a handle to the
 * creator's wallet; the bound authority withdraws. Events go out through sol_log_data in Anchor's
 * format (sha256("event:<Name>")[:8] || borsh), errors are logged the Anchor way and returned as
 * Custom(N). programs/gift_pool/idl.json describes all of it and is the contract with the indexer.
 *
 * Account checks follow Anchor's Account<T>: a program account is trusted when its owner is this
 * program and its data starts with the type's discriminator (only this program writes such data, and
 * only into the PDAs it derived when creating them); new PDAs are re-derived from their seeds.
 */
#include "sol.h"
#include "disc.h"
#include "errors.h"
#include "layout.h"
#include "io.h"
#include "cpi.h"

/* ---------------------------------------------------------------- shared checks */

NOINLINE u64 check_config(const Input *in, const Acc *cfg, bool writable) {
  if (!key_eq(acc_owner(cfg), in->program_id)) return E_INVALID_ACCOUNT;
  if (acc_data_len(cfg) < CONFIG_SIZE || ld64(acc_data(cfg)) != ACC_CONFIG) return E_INVALID_ACCOUNT;
  if (writable && !acc_writable(cfg)) return E_INVALID_ACCOUNT;
  return 0;
}

NOINLINE u64 check_creator(const Input *in, const Acc *cr) {
  if (!key_eq(acc_owner(cr), in->program_id)) return E_INVALID_ACCOUNT;
  if (acc_data_len(cr) < CREATOR_SIZE || ld64(acc_data(cr)) != ACC_CREATOR) return E_INVALID_ACCOUNT;
  if (!acc_writable(cr)) return E_INVALID_ACCOUNT;
  return 0;
}

/* The admin must sign and be the configured admin. */
INLINE u64 check_admin(const Acc *cfg, const Acc *admin) {
  if (!acc_signer(admin) || !key_eq(acc_key(admin), acc_data(cfg) + CFG_ADMIN)) return E_UNAUTHORIZED;
  return 0;
}

INLINE bool is_paused(const Acc *cfg) { return acc_data(cfg)[CFG_PAUSED] != 0; }

/* fee = floor(amount * bps / 10000) without a 128-bit product: split amount = q*10000 + r. */
INLINE u64 fee_of(u64 amount, u64 bps) { return (amount / 10000) * bps + ((amount % 10000) * bps) / 10000; }

INLINE bool add_ok(u64 a, u64 b, u64 *out) {
  *out = a + b;
  return *out >= a;
}

/* ---------------------------------------------------------------- admin instructions */

/* initialize(verifier: pubkey, treasury: pubkey, fee_bps: u16); accounts: config(w), admin(s,w), system */
NOINLINE u64 ix_initialize(const Input *in, Rd *r) {
  const u8 *verifier, *treasury;
  u16 fee_bps;
  if (!rd_key(r, &verifier) || !rd_key(r, &treasury) || !rd_u16(r, &fee_bps)) return E_IX_DESERIALIZE;
  if (in->n_accs < 3) return E_INVALID_ACCOUNT;
  const Acc *cfg = &in->accs[0], *admin = &in->accs[1], *sys = &in->accs[2];
  if (!acc_signer(admin)) return E_UNAUTHORIZED;
  if (fee_bps > MAX_FEE_BPS) return E_FEE_TOO_HIGH;
  SolBytes seeds[2] = {{(const u8 *)"config", 6}, {NULL, 1}};
  u8 addr[32], bump;
  if (sol_try_find_program_address(seeds, 1, in->program_id, addr, &bump) || !key_eq(addr, acc_key(cfg)))
    return E_INVALID_ACCOUNT;
  if (acc_data_len(cfg) != 0) return E_ALREADY_INITIALIZED;
  seeds[1].addr = &bump;
  SolSignerSeeds signer = {seeds, 2};
  CreateArgs ca = {admin, cfg, sys, &signer, CONFIG_SIZE, in->program_id};
  u64 err = create_pda(&ca);
  if (err) return err;
  u8 *d = acc_data(cfg);
  st64(d, ACC_CONFIG);
  copy(d + CFG_ADMIN, acc_key(admin), 32);
  copy(d + CFG_VERIFIER, verifier, 32);
  copy(d + CFG_TREASURY, treasury, 32);
  st64(d + CFG_CREATORS, 0);
  st16(d + CFG_FEE, fee_bps);
  d[CFG_PAUSED] = 0;
  d[CFG_BUMP] = bump;
  ConfigChange ch = {acc_key(admin), verifier, fee_bps};
  emit_config_updated(d, &ch);
  return 0;
}

/* set_paused(paused: bool); accounts: config(w), admin(s). The one thing allowed while paused. */
NOINLINE u64 ix_set_paused(const Input *in, Rd *r) {
  u8 paused;
  if (!rd_u8(r, &paused) || paused > 1) return E_IX_DESERIALIZE;
  if (in->n_accs < 2) return E_INVALID_ACCOUNT;
  const Acc *cfg = &in->accs[0], *admin = &in->accs[1];
  u64 err = check_config(in, cfg, true);
  if (err) return err;
  if ((err = check_admin(cfg, admin))) return err;
  acc_data(cfg)[CFG_PAUSED] = paused;
  Wr w = {EVT_BUF, 0};
  w_u64(&w, paused ? EV_PAUSED : EV_UNPAUSED);
  w_key(&w, acc_key(admin));
  w_i64(&w, now());
  emit(&w);
  return 0;
}

/* set_fee(fee_bps: u16) / set_admin(new_admin: pubkey) / set_verifier(new_verifier: pubkey);
 * accounts: config(w), admin(s). Each emits ConfigUpdated with the values before and after. */
NOINLINE u64 ix_set_config(const Input *in, Rd *r, u64 which) {
  u16 fee_bps = 0;
  const u8 *key = NULL;
  if (which == IX_SET_FEE) {
    if (!rd_u16(r, &fee_bps)) return E_IX_DESERIALIZE;
  } else if (!rd_key(r, &key)) {
    return E_IX_DESERIALIZE;
  }
  if (in->n_accs < 2) return E_INVALID_ACCOUNT;
  const Acc *cfg = &in->accs[0], *admin = &in->accs[1];
  u64 err = check_config(in, cfg, true);
  if (err) return err;
  if ((err = check_admin(cfg, admin))) return err;
  u8 *d = acc_data(cfg);
  /* The event needs the previous values: keep copies before overwriting. */
  u8 prev_admin[32], prev_verifier[32];
  copy(prev_admin, d + CFG_ADMIN, 32);
  copy(prev_verifier, d + CFG_VERIFIER, 32);
  u16 prev_fee = ld16(d + CFG_FEE);
  if (which == IX_SET_FEE) {
    if (fee_bps > MAX_FEE_BPS) return E_FEE_TOO_HIGH;
    st16(d + CFG_FEE, fee_bps);
  } else if (which == IX_SET_ADMIN) {
    if (is_zero_key(key)) return E_INVALID_ACCOUNT;
    copy(d + CFG_ADMIN, key, 32);
  } else {
    if (is_zero_key(key)) return E_INVALID_ACCOUNT;
    copy(d + CFG_VERIFIER, key, 32);
  }
  ConfigChange ch = {prev_admin, prev_verifier, prev_fee};
  emit_config_updated(d, &ch);
  return 0;
}

/* ---------------------------------------------------------------- creators */

/* Validates platform and handle and derives sha256(platform ":" lowercase(handle)) into key. */
NOINLINE u64 handle_key(const Str *platform, const Str *handle, u8 *key) {
  if (platform->len == 0 || platform->len > PLATFORM_MAX) return E_INVALID_PLATFORM;
  for (u32 i = 0; i < platform->len; i++) {
    u8 c = platform->ptr[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return E_INVALID_PLATFORM;
  }
  if (handle->len > HANDLE_MAX) return E_HANDLE_TOO_LONG;
  if (handle->len == 0) return E_INVALID_HANDLE;
  u8 lower[HANDLE_MAX];
  for (u32 i = 0; i < handle->len; i++) {
    u8 c = handle->ptr[i];
    /* Printable ASCII only: lowercase is then the same in every client language. */
    if (c <= 0x20 || c >= 0x7f || c == ':') return E_INVALID_HANDLE;
    lower[i] = (c >= 'A' && c <= 'Z') ? (u8)(c + 32) : c;
  }
  SolBytes parts[3] = {{platform->ptr, platform->len}, {(const u8 *)":", 1}, {lower, handle->len}};
  sol_sha256(parts, 3, key);
  return 0;
}

/* register_creator(platform: string, handle: string); accounts: config(w), creator(w), payer(s,w), system */
NOINLINE u64 ix_register_creator(const Input *in, Rd *r) {
  Str platform, handle;
  if (!rd_str(r, &platform) || !rd_str(r, &handle)) return E_IX_DESERIALIZE;
  if (in->n_accs < 4) return E_INVALID_ACCOUNT;
  const Acc *cfg = &in->accs[0], *cr = &in->accs[1], *payer = &in->accs[2], *sys = &in->accs[3];
  u64 err = check_config(in, cfg, true);
  if (err) return err;
  if (is_paused(cfg)) return E_PAUSED;
  if (!acc_signer(payer)) return E_UNAUTHORIZED;
  u8 key[32], addr[32], bump;
  if ((err = handle_key(&platform, &handle, key))) return err;
  SolBytes seeds[3] = {{(const u8 *)"creator", 7}, {key, 32}, {&bump, 1}};
  if (sol_try_find_program_address(seeds, 2, in->program_id, addr, &bump) || !key_eq(addr, acc_key(cr)))
    return E_INVALID_ACCOUNT;
  if (acc_data_len(cr) != 0) return E_ALREADY_INITIALIZED;
  u8 *cd = acc_data(cfg);
  u64 count;
  if (!add_ok(ld64(cd + CFG_CREATORS), 1, &count)) return E_OVERFLOW;
  SolSignerSeeds signer = {seeds, 3};
  CreateArgs ca = {payer, cr, sys, &signer, CREATOR_SIZE, in->program_id};
  if ((err = create_pda(&ca))) return err;
  st64(cd + CFG_CREATORS, count);
  u8 *d = acc_data(cr);
  st64(d, ACC_CREATOR);
  copy(d + CR_KEY, key, 32);
  d[CR_BUMP] = bump;
  Wr w = {d + CR_PLATFORM, 0};
  w_str(&w, &platform);
  w_str(&w, &handle);
  w = (Wr){EVT_BUF, 0};
  w_u64(&w, EV_CREATOR_REGISTERED);
  w_key(&w, acc_key(cr));
  w_str(&w, &platform);
  w_str(&w, &handle);
  w_key(&w, acc_key(payer));
  w_i64(&w, now());
  emit(&w);
  return 0;
}

/* bind_creator(authority: pubkey); accounts: config, creator(w), verifier(s). Rebinding is allowed
 * (a lost wallet) and evented with the previous authority. */
NOINLINE u64 ix_bind_creator(const Input *in, Rd *r) {
  const u8 *authority;
  if (!rd_key(r, &authority)) return E_IX_DESERIALIZE;
  if (in->n_accs < 3) return E_INVALID_ACCOUNT;
  const Acc *cfg = &in->accs[0], *cr = &in->accs[1], *verifier = &in->accs[2];
  u64 err = check_config(in, cfg, false);
  if (err) return err;
  if (is_paused(cfg)) return E_PAUSED;
  if (!acc_signer(verifier) || !key_eq(acc_key(verifier), acc_data(cfg) + CFG_VERIFIER)) return E_UNAUTHORIZED;
  if ((err = check_creator(in, cr))) return err;
  /* The PDA as its own authority would make payouts to it move nothing while emitting Withdrawn. */
  if (is_zero_key(authority) || key_eq(authority, acc_key(cr))) return E_INVALID_ACCOUNT;
  u8 *d = acc_data(cr);
  u8 previous[32];
  bool was_bound = d[CR_BOUND] != 0;
  copy(previous, d + CR_AUTH, 32);
  copy(d + CR_AUTH, authority, 32);
  d[CR_BOUND] = 1;
  Wr w = {EVT_BUF, 0};
  w_u64(&w, EV_CREATOR_BOUND);
  w_key(&w, acc_key(cr));
  w_raw(&w, d + CR_PLATFORM, creator_names_len(d));
  w_key(&w, authority);
  w_opt_key(&w, was_bound ? previous : NULL);
  w_key(&w, acc_key(verifier));
  w_i64(&w, now());
  emit(&w);
  return 0;
}

/* ---------------------------------------------------------------- gifts */

typedef struct {
  u64 amount;
  Str post_id;
  Str memo;
} GiftArgs;

INLINE u64 read_gift(Rd *r, GiftArgs *g) {
  if (!rd_u64(r, &g->amount) || !rd_str(r, &g->post_id) || !rd_str(r, &g->memo)) return E_IX_DESERIALIZE;
  if (g->amount == 0) return E_INVALID_AMOUNT;
  if (g->post_id.len > POST_ID_MAX) return E_POST_ID_TOO_LONG;
  if (g->memo.len > MEMO_MAX) return E_MEMO_TOO_LONG;
  return 0;
}

/* Records a gift of `net` on the creator (checked) and emits GiftSent. */
typedef struct {
  const Acc *fan;
  const Acc *creator;
  const u8 *mint; /* NULL for SOL */
  u64 fee;
  const GiftArgs *g;
} GiftRecord;

NOINLINE u64 record_gift(const GiftRecord *rec) {
  u8 *d = acc_data(rec->creator);
  u64 count, received;
  if (!add_ok(ld64(d + CR_GIFTS), 1, &count)) return E_OVERFLOW;
  received = ld64(d + CR_SOL_RECEIVED);
  if (rec->mint == NULL && !add_ok(received, rec->g->amount - rec->fee, &received)) return E_OVERFLOW;
  st64(d + CR_GIFTS, count);
  st64(d + CR_SOL_RECEIVED, received);
  Wr w = {EVT_BUF, 0};
  w_u64(&w, EV_GIFT_SENT);
  w_key(&w, acc_key(rec->fan));
  w_key(&w, acc_key(rec->creator));
  w_opt_key(&w, rec->mint);
  w_u64(&w, rec->g->amount);
  w_u64(&w, rec->fee);
  w_str(&w, &rec->g->post_id);
  w_str(&w, &rec->g->memo);
  w_i64(&w, now());
  emit(&w);
  return 0;
}

/* One SOL gift: checks, fee to the treasury, the rest to the creator PDA, event. */
typedef struct {
  const Acc *fan;
  const Acc *creator;
  const Acc *treasury;
  const Acc *sys;
  u64 fee_bps;
} SolGift;

NOINLINE u64 gift_sol_one(const Input *in, const SolGift *s, const GiftArgs *g) {
  u64 err = check_creator(in, s->creator);
  if (err) return err;
  u64 fee = fee_of(g->amount, s->fee_bps);
  /* Check the bookkeeping first so that no lamports move when it would overflow. */
  u8 *d = acc_data(s->creator);
  u64 tmp;
  if (!add_ok(ld64(d + CR_SOL_RECEIVED), g->amount - fee, &tmp) || !add_ok(ld64(d + CR_GIFTS), 1, &tmp))
    return E_OVERFLOW;
  u64 treasury_after;
  if (!add_ok(*acc_lamports(s->treasury), fee, &treasury_after)) return E_OVERFLOW;
  if (*acc_lamports(s->fan) < g->amount) return E_INSUFFICIENT_FUNDS;
  /* One System transfer of the gross amount into the PDA, which then passes the fee on to the
   * treasury directly (the program owns the PDA, so no second CPI: ~1,000 CU saved). */
  if ((err = sys_transfer(s->fan, s->creator, s->sys, g->amount))) return err;
  *acc_lamports(s->creator) -= fee;
  *acc_lamports(s->treasury) += fee;
  GiftRecord rec = {s->fan, s->creator, NULL, fee, g};
  return record_gift(&rec);
}

/* Common prelude of SOL gifts: config, not paused, fan signs, treasury is the configured one. */
NOINLINE u64 sol_gift_prelude(const Input *in, SolGift *s, u64 treasury_index) {
  const Acc *cfg = &in->accs[0];
  u64 err = check_config(in, cfg, false);
  if (err) return err;
  if (is_paused(cfg)) return E_PAUSED;
  s->treasury = &in->accs[treasury_index];
  s->sys = &in->accs[treasury_index + 1];
  if (!acc_signer(s->fan) || !acc_writable(s->fan)) return E_UNAUTHORIZED;
  if (!key_eq(acc_key(s->treasury), acc_data(cfg) + CFG_TREASURY) || !acc_writable(s->treasury))
    return E_INVALID_ACCOUNT;
  if (!is_zero_key(acc_key(s->sys))) return E_INVALID_ACCOUNT;
  s->fee_bps = ld16(acc_data(cfg) + CFG_FEE);
  return 0;
}

/* gift_sol(amount: u64, post_id: string, memo: string);
 * accounts: config, creator(w), fan(s,w), treasury(w), system */
NOINLINE u64 ix_gift_sol(const Input *in, Rd *r) {
  GiftArgs g;
  u64 err = read_gift(r, &g);
  if (err) return err;
  if (in->n_accs < 5) return E_INVALID_ACCOUNT;
  SolGift s = {&in->accs[2], &in->accs[1], NULL, NULL, 0};
  if ((err = sol_gift_prelude(in, &s, 3))) return err;
  return gift_sol_one(in, &s, &g);
}

/* True when accs[lo..hi) name some account twice (an O(n^2) scan: batches are small). */
NOINLINE bool has_duplicates(const Input *in, u64 lo, u64 hi) {
  for (u64 i = lo; i < hi; i++)
    for (u64 j = lo; j < i; j++)
      if (key_eq(acc_key(&in->accs[i]), acc_key(&in->accs[j]))) return true;
  return false;
}

/* batch_gift(gifts: Vec<GiftArgs>); accounts: config, fan(s,w), treasury(w), system, then one
 * creator(w) per gift, in order. A creator named twice is rejected. */
NOINLINE u64 ix_batch_gift(const Input *in, Rd *r) {
  u32 n;
  if (!rd_u32(r, &n)) return E_IX_DESERIALIZE;
  if (in->n_accs < 4) return E_INVALID_ACCOUNT;
  if (n == 0 || (u64)n != in->n_accs - 4) return E_BATCH_MISMATCH;
  SolGift s = {&in->accs[1], NULL, NULL, NULL, 0};
  u64 err = sol_gift_prelude(in, &s, 2);
  if (err) return err;
  if (has_duplicates(in, 4, in->n_accs)) return E_DUPLICATE_CREATOR;
  for (u32 i = 0; i < n; i++) {
    GiftArgs g;
    if ((err = read_gift(r, &g))) return err;
    s.creator = &in->accs[4 + i];
    if ((err = gift_sol_one(in, &s, &g))) return err;
  }
  return 0;
}

/* gift_token(amount: u64, post_id: string, memo: string); accounts: config, creator(w), fan(s),
 * fan_token(w), vault(w), treasury_token(w), mint, token_program. The vault must be the associated
 * token account of (creator PDA, mint); the treasury's token account must belong to the treasury. */
NOINLINE u64 ix_gift_token(const Input *in, Rd *r) {
  GiftArgs g;
  u64 err = read_gift(r, &g);
  if (err) return err;
  if (in->n_accs < 8) return E_INVALID_ACCOUNT;
  const Acc *cfg = &in->accs[0], *cr = &in->accs[1], *fan = &in->accs[2], *fan_tok = &in->accs[3];
  const Acc *vault = &in->accs[4], *tre_tok = &in->accs[5], *mint = &in->accs[6], *tok = &in->accs[7];
  if ((err = check_config(in, cfg, false))) return err;
  if (is_paused(cfg)) return E_PAUSED;
  if (!acc_signer(fan)) return E_UNAUTHORIZED;
  if ((err = check_creator(in, cr))) return err;
  if (!key_eq(acc_key(tok), TOKEN_PROGRAM_ID) || !key_eq(acc_owner(mint), TOKEN_PROGRAM_ID)) return E_INVALID_ACCOUNT;
  if ((err = check_vault(vault, cr, mint))) return err;
  if ((err = check_token_account(tre_tok, acc_data(cfg) + CFG_TREASURY, acc_key(mint)))) return err;
  if ((err = check_token_account(fan_tok, NULL, acc_key(mint)))) return err;
  if (token_amount(fan_tok) < g.amount) return E_INSUFFICIENT_FUNDS;
  u64 fee = fee_of(g.amount, ld16(acc_data(cfg) + CFG_FEE));
  u64 tmp;
  if (!add_ok(ld64(acc_data(cr) + CR_GIFTS), 1, &tmp)) return E_OVERFLOW;
  TokenTransfer t = {fan_tok, tre_tok, fan, tok, NULL};
  if (fee > 0 && (err = token_transfer(&t, fee))) return err;
  t.to = vault;
  if ((err = token_transfer(&t, g.amount - fee))) return err;
  GiftRecord rec = {fan, cr, acc_key(mint), fee, &g};
  return record_gift(&rec);
}

/* ---------------------------------------------------------------- withdrawals */

/* Lamports the creator PDA holds above its rent-exempt minimum. */
NOINLINE u64 sol_available(const Acc *cr, u64 *available) {
  u64 min;
  u64 err = rent_minimum(acc_data_len(cr), &min);
  if (err) return err;
  u64 lamports = *acc_lamports(cr);
  *available = lamports > min ? lamports - min : 0;
  return 0;
}

/* Moves lamports out of the program-owned creator PDA (no CPI needed) and records the withdrawal. */
NOINLINE u64 pay_sol(const Acc *cr, const Acc *dest, u64 amount) {
  u8 *d = acc_data(cr);
  u64 withdrawn, credited;
  if (!add_ok(ld64(d + CR_SOL_WITHDRAWN), amount, &withdrawn)) return E_OVERFLOW;
  if (!add_ok(*acc_lamports(dest), amount, &credited)) return E_OVERFLOW;
  *acc_lamports(cr) -= amount;
  *acc_lamports(dest) = credited;
  st64(d + CR_SOL_WITHDRAWN, withdrawn);
  return 0;
}

typedef struct {
  const Acc *creator;
  const u8 *authority;
  const u8 *destination;
  const u8 *mint;
  u64 amount;
} WithdrawnEvent;

NOINLINE void emit_withdrawn(const WithdrawnEvent *e, bool by_admin) {
  Wr w = {EVT_BUF, 0};
  w_u64(&w, EV_WITHDRAWN);
  w_key(&w, acc_key(e->creator));
  w_key(&w, e->authority);
  w_key(&w, e->destination);
  w_opt_key(&w, e->mint);
  w_u64(&w, e->amount);
  w_u8(&w, by_admin ? 1 : 0);
  w_i64(&w, now());
  emit(&w);
}

/* withdraw(amount: u64); accounts: config, creator(w), authority(s), destination(w), and for tokens
 * also vault(w), token_program: then destination is a token account of the vault's mint. */
NOINLINE u64 ix_withdraw(const Input *in, Rd *r) {
  u64 amount;
  if (!rd_u64(r, &amount)) return E_IX_DESERIALIZE;
  if (in->n_accs < 4) return E_INVALID_ACCOUNT;
  const Acc *cfg = &in->accs[0], *cr = &in->accs[1], *auth = &in->accs[2], *dest = &in->accs[3];
  u64 err = check_config(in, cfg, false);
  if (err) return err;
  if (is_paused(cfg)) return E_PAUSED;
  if ((err = check_creator(in, cr))) return err;
  u8 *d = acc_data(cr);
  if (d[CR_BOUND] == 0) return E_NOT_BOUND;
  if (!acc_signer(auth) || !key_eq(acc_key(auth), d + CR_AUTH)) return E_UNAUTHORIZED;
  if (amount == 0) return E_INVALID_AMOUNT;
  if (!acc_writable(dest) || key_eq(acc_key(dest), acc_key(cr))) return E_INVALID_ACCOUNT;
  WithdrawnEvent ev = {cr, acc_key(auth), acc_key(dest), NULL, amount};
  bool token = in->n_accs >= 6 && !key_eq(acc_key(&in->accs[4]), in->program_id);
  if (token) {
    const Acc *vault = &in->accs[4], *tok = &in->accs[5];
    if (!key_eq(acc_key(tok), TOKEN_PROGRAM_ID)) return E_INVALID_ACCOUNT;
    if (!key_eq(acc_owner(vault), TOKEN_PROGRAM_ID) || acc_data_len(vault) < TOKEN_ACCOUNT_SIZE ||
        !key_eq(acc_data(vault) + TA_OWNER, acc_key(cr)))
      return E_INVALID_ACCOUNT;
    ev.mint = acc_data(vault) + TA_MINT;
    /* A transfer from the vault to itself would emit a Withdrawn that moved nothing. */
    if (key_eq(acc_key(dest), acc_key(vault))) return E_INVALID_ACCOUNT;
    if ((err = check_token_account(dest, NULL, ev.mint))) return err;
    if (token_amount(vault) < amount) return E_INSUFFICIENT_FUNDS;
    u8 bump = d[CR_BUMP];
    SolBytes seeds[3] = {{(const u8 *)"creator", 7}, {d + CR_KEY, 32}, {&bump, 1}};
    SolSignerSeeds signer = {seeds, 3};
    TokenTransfer t = {vault, dest, cr, tok, &signer};
    if ((err = token_transfer(&t, amount))) return err;
  } else {
    u64 available;
    if ((err = sol_available(cr, &available))) return err;
    if (amount > available) return E_INSUFFICIENT_FUNDS;
    if ((err = pay_sol(cr, dest, amount))) return err;
  }
  emit_withdrawn(&ev, false);
  return 0;
}

/* batch_withdraw(); accounts: config, admin(s), then pairs (creator(w), destination(w)) where the
 * destination is the creator's bound authority. Pays each its whole SOL balance above rent. */
NOINLINE u64 ix_batch_withdraw(const Input *in) {
  if (in->n_accs < 4 || (in->n_accs - 2) % 2 != 0) return E_BATCH_MISMATCH;
  const Acc *cfg = &in->accs[0], *admin = &in->accs[1];
  u64 err = check_config(in, cfg, false);
  if (err) return err;
  if (is_paused(cfg)) return E_PAUSED;
  if ((err = check_admin(cfg, admin))) return err;
  u64 n = (in->n_accs - 2) / 2, total = 0;
  for (u64 i = 0; i < n; i++)
    for (u64 j = 0; j < i; j++)
      if (key_eq(acc_key(&in->accs[2 + 2 * i]), acc_key(&in->accs[2 + 2 * j]))) return E_DUPLICATE_CREATOR;
  for (u64 i = 0; i < n; i++) {
    const Acc *cr = &in->accs[2 + 2 * i], *dest = &in->accs[3 + 2 * i];
    if ((err = check_creator(in, cr))) return err;
    u8 *d = acc_data(cr);
    if (d[CR_BOUND] == 0) return E_NOT_BOUND;
    if (!key_eq(acc_key(dest), d + CR_AUTH) || !acc_writable(dest)) return E_INVALID_ACCOUNT;
    u64 amount;
    if ((err = sol_available(cr, &amount))) return err;
    if (!add_ok(total, amount, &total)) return E_OVERFLOW;
    if ((err = pay_sol(cr, dest, amount))) return err;
    WithdrawnEvent ev = {cr, d + CR_AUTH, acc_key(dest), NULL, amount};
    emit_withdrawn(&ev, true);
  }
  Wr w = {EVT_BUF, 0};
  w_u64(&w, EV_BATCH_PAID);
  w_key(&w, acc_key(admin));
  w_opt_key(&w, NULL);
  w_u32(&w, (u32)n);
  w_u64(&w, total);
  w_i64(&w, now());
  emit(&w);
  return 0;
}

/* ---------------------------------------------------------------- entrypoint */

NOINLINE u64 dispatch(const Input *in) {
  if (in->data_len < 8) return E_IX_MISSING;
  u64 disc = ld64(in->data);
  Rd r = {in->data + 8, in->data_len - 8};
  switch (disc) {
    case IX_INITIALIZE:
      LOG("Instruction: Initialize");
      return ix_initialize(in, &r);
    case IX_REGISTER_CREATOR:
      LOG("Instruction: RegisterCreator");
      return ix_register_creator(in, &r);
    case IX_BIND_CREATOR:
      LOG("Instruction: BindCreator");
      return ix_bind_creator(in, &r);
    case IX_GIFT_SOL:
      LOG("Instruction: GiftSol");
      return ix_gift_sol(in, &r);
    case IX_GIFT_TOKEN:
      LOG("Instruction: GiftToken");
      return ix_gift_token(in, &r);
    case IX_BATCH_GIFT:
      LOG("Instruction: BatchGift");
      return ix_batch_gift(in, &r);
    case IX_WITHDRAW:
      LOG("Instruction: Withdraw");
      return ix_withdraw(in, &r);
    case IX_BATCH_WITHDRAW:
      LOG("Instruction: BatchWithdraw");
      return ix_batch_withdraw(in);
    case IX_SET_PAUSED:
      LOG("Instruction: SetPaused");
      return ix_set_paused(in, &r);
    case IX_SET_FEE:
      LOG("Instruction: SetFee");
      return ix_set_config(in, &r, disc);
    case IX_SET_ADMIN:
      LOG("Instruction: SetAdmin");
      return ix_set_config(in, &r, disc);
    case IX_SET_VERIFIER:
      LOG("Instruction: SetVerifier");
      return ix_set_config(in, &r, disc);
    default:
      return E_IX_NOT_FOUND;
  }
}

u64 entrypoint(u8 *input) {
  Input in;
  u64 err = parse_input(input, &in) ? dispatch(&in) : E_INVALID_ACCOUNT;
  if (err) log_error(err);
  return err;
}
