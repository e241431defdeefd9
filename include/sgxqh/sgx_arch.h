/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Architectural SGX structures as they appear on the wire and in quotes.
 *
 * Every struct here is byte-for-byte Intel's layout (packed, little-endian
 * integers), because the client ABI (libsgx_quote_ex.so.1) and the quote
 * format both pass them around as raw bytes. Offsets cite
 * docs/internals/quote-format.md (§) and aesm-protocol.md (aesm §).
 */
#ifndef SGXQH_SGX_ARCH_H
#define SGXQH_SGX_ARCH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SGX_CPUSVN_SIZE 16
#define SGX_HASH_SIZE 32
#define SGX_CONFIGID_SIZE 64
#define SGX_ISVEXT_PROD_ID_SIZE 16
#define SGX_ISV_FAMILY_ID_SIZE 16
#define SGX_REPORT_DATA_SIZE 64
#define SGX_KEYID_SIZE 32
#define SGX_MAC_SIZE 16

/* Attribute flags, quote-format §1.3. */
#define SGX_FLAGS_INITTED 0x0000000000000001ULL
#define SGX_FLAGS_DEBUG 0x0000000000000002ULL
#define SGX_FLAGS_MODE64BIT 0x0000000000000004ULL
#define SGX_FLAGS_PROVISION_KEY 0x0000000000000010ULL
#define SGX_FLAGS_EINITTOKEN_KEY 0x0000000000000020ULL
#define SGX_FLAGS_KSS 0x0000000000000080ULL
#define SGX_FLAGS_AEX_NOTIFY 0x0000000000000400ULL

#pragma pack(push, 1)

typedef struct {
    uint64_t flags;
    uint64_t xfrm;
} sgx_attributes_t;

/* quote-format §1.3 / aesm §6.2: 384 bytes. */
typedef struct {
    uint8_t cpu_svn[SGX_CPUSVN_SIZE];              /*   0 */
    uint32_t misc_select;                          /*  16 */
    uint8_t reserved1[12];                         /*  20 (byte 20: CET attributes) */
    uint8_t isv_ext_prod_id[SGX_ISVEXT_PROD_ID_SIZE]; /* 32 */
    sgx_attributes_t attributes;                   /*  48 */
    uint8_t mr_enclave[SGX_HASH_SIZE];             /*  64 */
    uint8_t reserved2[32];                         /*  96 */
    uint8_t mr_signer[SGX_HASH_SIZE];              /* 128 */
    uint8_t reserved3[32];                         /* 160 */
    uint8_t config_id[SGX_CONFIGID_SIZE];          /* 192 */
    uint16_t isv_prod_id;                          /* 256 */
    uint16_t isv_svn;                              /* 258 */
    uint16_t config_svn;                           /* 260 */
    uint8_t reserved4[42];                         /* 262 */
    uint8_t isv_family_id[SGX_ISV_FAMILY_ID_SIZE]; /* 304 */
    uint8_t report_data[SGX_REPORT_DATA_SIZE];     /* 320 */
} sgx_report_body_t;

/* quote-format §4.2: 432 bytes; the MAC covers the body only. */
typedef struct {
    sgx_report_body_t body;         /*   0 */
    uint8_t key_id[SGX_KEYID_SIZE]; /* 384 */
    uint8_t mac[SGX_MAC_SIZE];      /* 416 */
} sgx_report_t;

/* quote-format §4.1: 512 bytes. */
typedef struct {
    uint8_t mr_enclave[SGX_HASH_SIZE];    /*   0 */
    sgx_attributes_t attributes;          /*  32 */
    uint8_t reserved1[2];                 /*  48 (byte 48: CET attributes) */
    uint16_t config_svn;                  /*  50 */
    uint32_t misc_select;                 /*  52 */
    uint8_t reserved2[8];                 /*  56 */
    uint8_t config_id[SGX_CONFIGID_SIZE]; /*  64 */
    uint8_t reserved3[384];               /* 128 */
} sgx_target_info_t;

/* quote-format §4.3: 512 bytes. */
typedef struct {
    uint16_t key_name;                  /*   0 */
    uint16_t key_policy;                /*   2 */
    uint16_t isv_svn;                   /*   4 */
    uint16_t reserved1;                 /*   6 */
    uint8_t cpu_svn[SGX_CPUSVN_SIZE];   /*   8 */
    sgx_attributes_t attribute_mask;    /*  24 */
    uint8_t key_id[SGX_KEYID_SIZE];     /*  40 */
    uint32_t misc_mask;                 /*  72 */
    uint16_t config_svn;                /*  76 */
    uint8_t reserved2[434];             /*  78 */
} sgx_key_request_t;

#define SGX_KEYSELECT_REPORT 3

/* aesm §6.3: 960 bytes. */
typedef struct {
    uint8_t nonce[16];                      /*   0 */
    sgx_target_info_t app_enclave_target_info; /* 16 */
    sgx_report_t qe_report;                 /* 528 */
} sgx_qe_report_info_t;

/* aesm §6.4: the 158-byte key id base. */
typedef struct {
    uint16_t id;               /*   0 */
    uint16_t version;          /*   2 */
    uint16_t mrsigner_length;  /*   4 */
    uint8_t mrsigner[48];      /*   6 */
    uint32_t prod_id;          /*  54 */
    uint8_t extended_prod_id[16]; /* 58 */
    uint8_t config_id[64];     /*  74 */
    uint8_t family_id[16];     /* 138 */
    uint32_t algorithm_id;     /* 154 */
} sgx_ql_att_key_id_t;

/* aesm §6.4: 256 bytes; what the wire calls att_key_id. */
typedef struct {
    sgx_ql_att_key_id_t base; /*   0 */
    uint8_t spid[16];         /* 158 */
    uint16_t att_key_type;    /* 174 */
    uint8_t reserved[80];     /* 176 */
} sgx_att_key_id_ext_t;

/* Intel's opaque form of the same 256 bytes. */
typedef struct {
    uint8_t att_key_id[256];
} sgx_att_key_id_t;

#define SGX_QL_ALG_EPID 0
#define SGX_QL_ALG_RESERVED_1 1
#define SGX_QL_ALG_ECDSA_P256 2
#define SGX_QL_ALG_ECDSA_P384 3

/* aesm §6.4: list header for SelectAttKeyID. */
typedef struct {
    uint16_t id;
    uint16_t version;
    uint32_t num_att_ids;
} sgx_ql_att_key_id_list_header_t;
#define SGX_ATT_KEY_ID_LIST_MAX 10

/* quote-format §1.2 / §2.1: the 48-byte quote header (v3 names; v4+ reads
 * bytes 4..7 as tee_type). */
typedef struct {
    uint16_t version;        /*  0 */
    uint16_t att_key_type;   /*  2 */
    uint32_t tee_type;       /*  4 (v3: att_key_data_0, must be 0) */
    uint16_t qe_svn;         /*  8 */
    uint16_t pce_svn;        /* 10 */
    uint8_t qe_vendor_id[16]; /* 12 */
    uint8_t user_data[20];   /* 28 (QE_ID ‖ 0^4) */
} sgx_quote_header_t;

#define SGX_QUOTE_ATT_KEY_TYPE_ECDSA_P256 2
#define SGX_TEE_TYPE_SGX 0x00000000u
#define SGX_TEE_TYPE_TDX 0x00000081u

/* quote-format §1.4: the fixed part of v3 signature data, 576 bytes, then
 * the u16 auth data size. */
typedef struct {
    uint8_t sig[64];                 /*   0 (abs 436): r‖s over quote[0,432) */
    uint8_t attest_pub_key[64];      /*  64 (abs 500): X‖Y */
    sgx_report_body_t qe_report;     /* 128 (abs 564) */
    uint8_t qe_report_sig[64];       /* 512 (abs 948) */
} sgx_ql_ecdsa_sig_data_t;

/* quote-format §1.1: header + ISV body + signature_data_len. */
typedef struct {
    sgx_quote_header_t header;  /*   0 */
    sgx_report_body_t report_body; /* 48 */
    uint32_t signature_data_len; /* 432 */
    /* signature data follows at 436 */
} sgx_quote3_t;

#pragma pack(pop)

_Static_assert(sizeof(sgx_attributes_t) == 16, "sgx_attributes_t");
_Static_assert(sizeof(sgx_report_body_t) == 384, "sgx_report_body_t");
_Static_assert(offsetof(sgx_report_body_t, misc_select) == 16, "misc_select");
_Static_assert(offsetof(sgx_report_body_t, isv_ext_prod_id) == 32, "isv_ext_prod_id");
_Static_assert(offsetof(sgx_report_body_t, attributes) == 48, "attributes");
_Static_assert(offsetof(sgx_report_body_t, mr_enclave) == 64, "mr_enclave");
_Static_assert(offsetof(sgx_report_body_t, mr_signer) == 128, "mr_signer");
_Static_assert(offsetof(sgx_report_body_t, config_id) == 192, "config_id");
_Static_assert(offsetof(sgx_report_body_t, isv_prod_id) == 256, "isv_prod_id");
_Static_assert(offsetof(sgx_report_body_t, isv_svn) == 258, "isv_svn");
_Static_assert(offsetof(sgx_report_body_t, config_svn) == 260, "config_svn");
_Static_assert(offsetof(sgx_report_body_t, isv_family_id) == 304, "isv_family_id");
_Static_assert(offsetof(sgx_report_body_t, report_data) == 320, "report_data");

_Static_assert(sizeof(sgx_report_t) == 432, "sgx_report_t");
_Static_assert(offsetof(sgx_report_t, key_id) == 384, "key_id");
_Static_assert(offsetof(sgx_report_t, mac) == 416, "mac");

_Static_assert(sizeof(sgx_target_info_t) == 512, "sgx_target_info_t");
_Static_assert(offsetof(sgx_target_info_t, attributes) == 32, "ti attributes");
_Static_assert(offsetof(sgx_target_info_t, config_svn) == 50, "ti config_svn");
_Static_assert(offsetof(sgx_target_info_t, misc_select) == 52, "ti misc_select");
_Static_assert(offsetof(sgx_target_info_t, config_id) == 64, "ti config_id");

_Static_assert(sizeof(sgx_key_request_t) == 512, "sgx_key_request_t");
_Static_assert(offsetof(sgx_key_request_t, cpu_svn) == 8, "kr cpu_svn");
_Static_assert(offsetof(sgx_key_request_t, key_id) == 40, "kr key_id");
_Static_assert(offsetof(sgx_key_request_t, misc_mask) == 72, "kr misc_mask");

_Static_assert(sizeof(sgx_qe_report_info_t) == 960, "sgx_qe_report_info_t");
_Static_assert(offsetof(sgx_qe_report_info_t, app_enclave_target_info) == 16, "qri ti");
_Static_assert(offsetof(sgx_qe_report_info_t, qe_report) == 528, "qri report");

_Static_assert(sizeof(sgx_ql_att_key_id_t) == 158, "sgx_ql_att_key_id_t");
_Static_assert(offsetof(sgx_ql_att_key_id_t, mrsigner) == 6, "kid mrsigner");
_Static_assert(offsetof(sgx_ql_att_key_id_t, prod_id) == 54, "kid prod_id");
_Static_assert(offsetof(sgx_ql_att_key_id_t, config_id) == 74, "kid config_id");
_Static_assert(offsetof(sgx_ql_att_key_id_t, family_id) == 138, "kid family_id");
_Static_assert(offsetof(sgx_ql_att_key_id_t, algorithm_id) == 154, "kid algorithm_id");
_Static_assert(sizeof(sgx_att_key_id_ext_t) == 256, "sgx_att_key_id_ext_t");
_Static_assert(offsetof(sgx_att_key_id_ext_t, spid) == 158, "kid spid");
_Static_assert(offsetof(sgx_att_key_id_ext_t, att_key_type) == 174, "kid att_key_type");
_Static_assert(sizeof(sgx_att_key_id_t) == 256, "sgx_att_key_id_t");
_Static_assert(sizeof(sgx_ql_att_key_id_list_header_t) == 8, "key id list header");

_Static_assert(sizeof(sgx_quote_header_t) == 48, "sgx_quote_header_t");
_Static_assert(offsetof(sgx_quote_header_t, tee_type) == 4, "tee_type");
_Static_assert(offsetof(sgx_quote_header_t, qe_svn) == 8, "qe_svn");
_Static_assert(offsetof(sgx_quote_header_t, pce_svn) == 10, "pce_svn");
_Static_assert(offsetof(sgx_quote_header_t, qe_vendor_id) == 12, "qe_vendor_id");
_Static_assert(offsetof(sgx_quote_header_t, user_data) == 28, "user_data");

_Static_assert(sizeof(sgx_ql_ecdsa_sig_data_t) == 576, "sgx_ql_ecdsa_sig_data_t");
_Static_assert(offsetof(sgx_ql_ecdsa_sig_data_t, attest_pub_key) == 64, "ak");
_Static_assert(offsetof(sgx_ql_ecdsa_sig_data_t, qe_report) == 128, "qe report");
_Static_assert(offsetof(sgx_ql_ecdsa_sig_data_t, qe_report_sig) == 512, "qe report sig");

_Static_assert(sizeof(sgx_quote3_t) == 436, "sgx_quote3_t");
_Static_assert(offsetof(sgx_quote3_t, report_body) == 48, "quote body");
_Static_assert(offsetof(sgx_quote3_t, signature_data_len) == 432, "sig len");

/* Intel's QE vendor id, quote-format §1.2. */
extern const uint8_t SGX_INTEL_QE_VENDOR_ID[16];
/* QE3 production MRSIGNER, aesm §6.4. */
extern const uint8_t SGX_QE3_MRSIGNER[32];

#ifdef __cplusplus
}
#endif
#endif
