/* errors.h: the program's error codes (Anchor numbering: custom errors from 6000) and their Anchor-style
 * log line, so a failed transaction can be classified from its logs alone. Keep in sync with idl.json
 * (tests/integration/test_gift_pool_idl.py checks every code against the IDL). */
#ifndef GIFT_POOL_ERRORS_H
#define GIFT_POOL_ERRORS_H

enum {
  E_UNAUTHORIZED = 6000,
  E_PAUSED,
  E_INVALID_AMOUNT,
  E_OVERFLOW,
  E_HANDLE_TOO_LONG,
  E_NOT_BOUND,
  E_INSUFFICIENT_FUNDS,
  E_FEE_TOO_HIGH,
  E_INVALID_ACCOUNT,
  E_INVALID_PLATFORM,
  E_INVALID_HANDLE,
  E_MEMO_TOO_LONG,
  E_POST_ID_TOO_LONG,
  E_DUPLICATE_CREATOR,
  E_BATCH_MISMATCH,
  E_ALREADY_INITIALIZED,
};
/* Anchor's own framework errors for a missing or unknown instruction and undecodable arguments. */
#define E_IX_MISSING 100
#define E_IX_NOT_FOUND 101
#define E_IX_DESERIALIZE 102

#define LOG_BUF (HEAP_START + 0x800)

typedef struct {
  const char *name;
  const char *msg;
} ErrText;

/* Fills t (BPF functions cannot return structs). */
NOINLINE void error_text(u64 code, ErrText *t) {
  switch (code) {
    case E_UNAUTHORIZED: *t = (ErrText){"Unauthorized", "The signer is not allowed to do this"};
      return;
    case E_PAUSED: *t = (ErrText){"Paused", "The gift pool is paused"};
      return;
    case E_INVALID_AMOUNT: *t = (ErrText){"InvalidAmount", "The amount must be greater than zero"};
      return;
    case E_OVERFLOW: *t = (ErrText){"Overflow", "Arithmetic overflow"};
      return;
    case E_HANDLE_TOO_LONG: *t = (ErrText){"HandleTooLong", "The handle is longer than 32 bytes"};
      return;
    case E_NOT_BOUND: *t = (ErrText){"NotBound", "The creator is not bound to a wallet"};
      return;
    case E_INSUFFICIENT_FUNDS: *t = (ErrText){"InsufficientFunds", "The balance is too low"};
      return;
    case E_FEE_TOO_HIGH: *t = (ErrText){"FeeTooHigh", "The fee is above 1000 basis points"};
      return;
    case E_INVALID_ACCOUNT: *t = (ErrText){"InvalidAccount", "An account is not the expected one"};
      return;
    case E_INVALID_PLATFORM: *t = (ErrText){"InvalidPlatform", "The platform must be 1-16 bytes of a-z, 0-9, _"};
      return;
    case E_INVALID_HANDLE: *t = (ErrText){"InvalidHandle", "The handle must be printable ASCII without ':'"};
      return;
    case E_MEMO_TOO_LONG: *t = (ErrText){"MemoTooLong", "The memo is longer than 64 bytes"};
      return;
    case E_POST_ID_TOO_LONG: *t = (ErrText){"PostIdTooLong", "The post id is longer than 64 bytes"};
      return;
    case E_DUPLICATE_CREATOR: *t = (ErrText){"DuplicateCreator", "A batch names the same creator twice"};
      return;
    case E_BATCH_MISMATCH: *t = (ErrText){"BatchMismatch", "The batch does not match the accounts"};
      return;
    case E_ALREADY_INITIALIZED: *t = (ErrText){"AlreadyInitialized", "The account already exists"};
      return;
    case E_IX_MISSING: *t = (ErrText){"InstructionMissing", "8 byte instruction identifier not provided"};
      return;
    case E_IX_NOT_FOUND: *t = (ErrText){"InstructionFallbackNotFound", "Fallback functions are not supported"};
      return;
    case E_IX_DESERIALIZE:
      *t = (ErrText){"InstructionDidNotDeserialize", "The program could not deserialize the given instruction"};
      return;
    default: *t = (ErrText){"Unknown", "Unknown error"};
      return;
  }
}

INLINE u8 *put(u8 *p, const char *s) {
  while (*s) *p++ = (u8)*s++;
  return p;
}

INLINE u8 *put_u64(u8 *p, u64 v) {
  u8 digits[20];
  int n = 0;
  do {
    digits[n++] = (u8)('0' + v % 10);
    v /= 10;
  } while (v);
  while (n) *p++ = digits[--n];
  return p;
}

/* "AnchorError occurred. Error Code: X. Error Number: N. Error Message: M." as Anchor logs it. */
NOINLINE void log_error(u64 code) {
  ErrText t;
  error_text(code, &t);
  u8 *p = LOG_BUF;
  p = put(p, "AnchorError occurred. Error Code: ");
  p = put(p, t.name);
  p = put(p, ". Error Number: ");
  p = put_u64(p, code);
  p = put(p, ". Error Message: ");
  p = put(p, t.msg);
  p = put(p, ".");
  sol_log_((const char *)LOG_BUF, (u64)(p - LOG_BUF));
}

#endif
