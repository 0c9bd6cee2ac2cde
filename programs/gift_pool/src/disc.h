/* disc.h: Anchor discriminators, sha256("global:<ix>" | "event:<Event>" | "account:<Account>")[:8]
 * read as little-endian u64 (so st64() writes the eight bytes in order). tests/unit/test_postlink.py
 * recomputes every value from its name. */
#ifndef GIFT_POOL_DISC_H
#define GIFT_POOL_DISC_H

#define IX_INITIALIZE 0xed9b980d1f6dafafULL
#define IX_REGISTER_CREATOR 0xc3a08ca4d2c20355ULL
#define IX_BIND_CREATOR 0x8b785dc909c0adebULL
#define IX_GIFT_SOL 0x1d417ed06b8f2c78ULL
#define IX_GIFT_TOKEN 0x437285cf0689e152ULL
#define IX_BATCH_GIFT 0x8270eb4c7062fd03ULL
#define IX_WITHDRAW 0x22a16d949c4612b7ULL
#define IX_BATCH_WITHDRAW 0xc3f5245e47954c25ULL
#define IX_SET_PAUSED 0xdaa6e1b0c07d3c5bULL
#define IX_SET_FEE 0x5013d6ed12189a12ULL
#define IX_SET_ADMIN 0x5cbbc25b3400a3fbULL
#define IX_SET_VERIFIER 0x3fd59e9483bff7baULL

#define EV_CREATOR_REGISTERED 0x80ba82300a099aabULL
#define EV_CREATOR_BOUND 0x60c2edf70f4fd2cfULL
#define EV_GIFT_SENT 0x17e69a5a3a9af780ULL
#define EV_WITHDRAWN 0x0ddb7cc2c6df5914ULL
#define EV_BATCH_PAID 0x46f23dccaf0c1afeULL
#define EV_PAUSED 0xe8ffff31fd05f8acULL
#define EV_UNPAUSED 0x755dd878ae2f969cULL
#define EV_CONFIG_UPDATED 0xc2c6130b7ae6f128ULL

#define ACC_CONFIG 0x82ccfa1ee0aa0c9bULL
#define ACC_CREATOR 0x673684a599e925edULL

#endif
