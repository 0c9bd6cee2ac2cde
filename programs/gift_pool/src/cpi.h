/* cpi.h: cross-program invocations (System program, SPL Token) and the token account checks. */
#ifndef GIFT_POOL_CPI_H
#define GIFT_POOL_CPI_H

INLINE u64 invoke(const SolInstruction *ix, const SolAccountInfo *infos, u64 n, const SolSignerSeeds *signer) {
  return sol_invoke_signed_c(ix, infos, n, signer, signer ? 1 : 0);
}

/* System transfer of `lamports` from a signer. The caller checked `sys` is the System program. */
NOINLINE u64 sys_transfer(const Acc *from, const Acc *to, const Acc *sys, u64 lamports) {
  u8 data[12];
  st32(data, 2);
  st64(data + 4, lamports);
  SolAccountMeta metas[2] = {{acc_key(from), true, true}, {acc_key(to), true, false}};
  SolAccountInfo infos[3];
  acc_info(&infos[0], from);
  acc_info(&infos[1], to);
  acc_info(&infos[2], sys);
  SolInstruction ix = {acc_key(sys), metas, 2, data, 12};
  return invoke(&ix, infos, 3, NULL);
}

/* One System instruction on a PDA signed by its seeds: allocate(space) or assign(owner). */
NOINLINE u64 sys_pda_op(const Acc *target, const Acc *sys, const SolSignerSeeds *seeds, const u8 *data, u64 len) {
  SolAccountMeta metas[1] = {{acc_key(target), true, true}};
  SolAccountInfo infos[2];
  acc_info(&infos[0], target);
  acc_info(&infos[1], sys);
  SolInstruction ix = {acc_key(sys), metas, 1, data, len};
  return invoke(&ix, infos, 2, seeds);
}

typedef struct {
  const Acc *payer;
  const Acc *target;
  const Acc *sys;
  const SolSignerSeeds *seeds;
  u64 space;
  const u8 *owner;
} CreateArgs;

/* Creates a rent-exempt PDA owned by `owner`. A PDA somebody pre-funded (create_account would fail on
 * it, blocking the handle forever) is topped up, allocated and assigned instead, as Anchor does. */
NOINLINE u64 create_pda(const CreateArgs *a) {
  if (!is_zero_key(acc_key(a->sys))) return E_INVALID_ACCOUNT;
  if (!is_zero_key(acc_owner(a->target)) || acc_data_len(a->target) != 0) return E_ALREADY_INITIALIZED;
  if (!acc_writable(a->target) || !acc_writable(a->payer)) return E_INVALID_ACCOUNT;
  u64 need, err;
  if ((err = rent_minimum(a->space, &need))) return err;
  u64 have = *acc_lamports(a->target);
  u8 data[52];
  if (have == 0) {
    st32(data, 0); /* CreateAccount { lamports, space, owner } */
    st64(data + 4, need);
    st64(data + 12, a->space);
    copy(data + 20, a->owner, 32);
    SolAccountMeta metas[2] = {{acc_key(a->payer), true, true}, {acc_key(a->target), true, true}};
    SolAccountInfo infos[3];
    acc_info(&infos[0], a->payer);
    acc_info(&infos[1], a->target);
    acc_info(&infos[2], a->sys);
    SolInstruction ix = {acc_key(a->sys), metas, 2, data, 52};
    return invoke(&ix, infos, 3, a->seeds);
  }
  if (have < need && (err = sys_transfer(a->payer, a->target, a->sys, need - have))) return err;
  st32(data, 8); /* Allocate { space } */
  st64(data + 4, a->space);
  if ((err = sys_pda_op(a->target, a->sys, a->seeds, data, 12))) return err;
  st32(data, 1); /* Assign { owner } */
  copy(data + 4, a->owner, 32);
  return sys_pda_op(a->target, a->sys, a->seeds, data, 36);
}

/* ---- SPL Token ---- */
INLINE u64 token_amount(const Acc *ta) { return ld64(acc_data(ta) + TA_AMOUNT); }

/* An initialized token account of `mint`, held by the Token program, owned by `owner` unless NULL. */
NOINLINE u64 check_token_account(const Acc *ta, const u8 *owner, const u8 *mint) {
  if (!key_eq(acc_owner(ta), TOKEN_PROGRAM_ID) || acc_data_len(ta) < TOKEN_ACCOUNT_SIZE) return E_INVALID_ACCOUNT;
  const u8 *d = acc_data(ta);
  if (!acc_writable(ta) || d[TA_STATE] != 1 || !key_eq(d + TA_MINT, mint)) return E_INVALID_ACCOUNT;
  if (owner != NULL && !key_eq(d + TA_OWNER, owner)) return E_INVALID_ACCOUNT;
  return 0;
}

/* The vault must be the associated token account of (creator PDA, mint). */
NOINLINE u64 check_vault(const Acc *vault, const Acc *creator, const Acc *mint) {
  u64 err = check_token_account(vault, acc_key(creator), acc_key(mint));
  if (err) return err;
  SolBytes seeds[3] = {{acc_key(creator), 32}, {TOKEN_PROGRAM_ID, 32}, {acc_key(mint), 32}};
  u8 addr[32], bump;
  if (sol_try_find_program_address(seeds, 3, ATA_PROGRAM_ID, addr, &bump) || !key_eq(addr, acc_key(vault)))
    return E_INVALID_ACCOUNT;
  return 0;
}

typedef struct {
  const Acc *from;
  const Acc *to;
  const Acc *authority;
  const Acc *token_program;
  const SolSignerSeeds *signer; /* the authority's PDA seeds, or NULL when it signed the transaction */
} TokenTransfer;

/* Token Transfer { amount } (instruction 3): source, destination, authority. */
NOINLINE u64 token_transfer(const TokenTransfer *t, u64 amount) {
  u8 data[9];
  data[0] = 3;
  st64(data + 1, amount);
  SolAccountMeta metas[3] = {
      {acc_key(t->from), true, false}, {acc_key(t->to), true, false}, {acc_key(t->authority), false, true}};
  SolAccountInfo infos[4];
  acc_info(&infos[0], t->from);
  acc_info(&infos[1], t->to);
  acc_info(&infos[2], t->authority);
  acc_info(&infos[3], t->token_program);
  SolInstruction ix = {acc_key(t->token_program), metas, 3, data, 9};
  return invoke(&ix, infos, 4, t->signer);
}

#endif
