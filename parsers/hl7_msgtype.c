/* hl7_msgtype — MSH-9 type, trigger and structure; the table 0354 lookup. */
#include "parsers/hl7_msgtype.h"

#include <stdio.h>
#include <string.h>

struct structure_row {
    const char *code, *trigger, *structure;
};

/* HL7 table 0354 (v2.5.1), the events a hospital interface meets. */
static const struct structure_row structures[] = {
    {"ADT", "A01", "ADT_A01"}, {"ADT", "A02", "ADT_A02"}, {"ADT", "A03", "ADT_A03"},
    {"ADT", "A04", "ADT_A01"}, {"ADT", "A05", "ADT_A05"}, {"ADT", "A06", "ADT_A06"},
    {"ADT", "A07", "ADT_A06"}, {"ADT", "A08", "ADT_A01"}, {"ADT", "A09", "ADT_A09"},
    {"ADT", "A10", "ADT_A09"}, {"ADT", "A11", "ADT_A09"}, {"ADT", "A12", "ADT_A12"},
    {"ADT", "A13", "ADT_A01"}, {"ADT", "A14", "ADT_A05"}, {"ADT", "A15", "ADT_A15"},
    {"ADT", "A16", "ADT_A16"}, {"ADT", "A17", "ADT_A17"}, {"ADT", "A18", "ADT_A18"},
    {"ADT", "A20", "ADT_A20"}, {"ADT", "A21", "ADT_A21"}, {"ADT", "A22", "ADT_A21"},
    {"ADT", "A23", "ADT_A21"}, {"ADT", "A24", "ADT_A24"}, {"ADT", "A25", "ADT_A21"},
    {"ADT", "A26", "ADT_A21"}, {"ADT", "A27", "ADT_A21"}, {"ADT", "A28", "ADT_A05"},
    {"ADT", "A29", "ADT_A21"}, {"ADT", "A30", "ADT_A30"}, {"ADT", "A31", "ADT_A05"},
    {"ADT", "A32", "ADT_A21"}, {"ADT", "A33", "ADT_A21"}, {"ADT", "A34", "ADT_A30"},
    {"ADT", "A35", "ADT_A30"}, {"ADT", "A36", "ADT_A30"}, {"ADT", "A37", "ADT_A37"},
    {"ADT", "A38", "ADT_A38"}, {"ADT", "A39", "ADT_A39"}, {"ADT", "A40", "ADT_A39"},
    {"ADT", "A41", "ADT_A39"}, {"ADT", "A42", "ADT_A39"}, {"ADT", "A43", "ADT_A43"},
    {"ADT", "A44", "ADT_A43"}, {"ADT", "A45", "ADT_A45"}, {"ADT", "A46", "ADT_A30"},
    {"ADT", "A47", "ADT_A30"}, {"ADT", "A48", "ADT_A30"}, {"ADT", "A49", "ADT_A30"},
    {"ADT", "A50", "ADT_A50"}, {"ADT", "A51", "ADT_A50"}, {"ADT", "A52", "ADT_A52"},
    {"ADT", "A53", "ADT_A52"}, {"ADT", "A54", "ADT_A54"}, {"ADT", "A55", "ADT_A52"},
    {"ADT", "A60", "ADT_A60"}, {"ADT", "A61", "ADT_A61"}, {"ADT", "A62", "ADT_A61"},
    {"ORU", "R01", "ORU_R01"}, {"ORU", "R30", "ORU_R30"}, {"ORU", "R31", "ORU_R30"},
    {"ORU", "R32", "ORU_R30"}, {"ORU", "W01", "ORU_W01"}, {"ORM", "O01", "ORM_O01"},
    {"ORR", "O02", "ORR_O02"}, {"OML", "O21", "OML_O21"}, {"OML", "O33", "OML_O33"},
    {"OML", "O35", "OML_O35"}, {"ORL", "O22", "ORL_O22"}, {"OMG", "O19", "OMG_O19"},
    {"ORG", "O20", "ORG_O20"}, {"OUL", "R21", "OUL_R21"}, {"OUL", "R22", "OUL_R22"},
    {"OUL", "R23", "OUL_R23"}, {"OUL", "R24", "OUL_R24"}, {"MDM", "T01", "MDM_T01"},
    {"MDM", "T02", "MDM_T02"}, {"MDM", "T03", "MDM_T01"}, {"MDM", "T04", "MDM_T02"},
    {"MDM", "T05", "MDM_T01"}, {"MDM", "T06", "MDM_T02"}, {"MDM", "T07", "MDM_T01"},
    {"MDM", "T08", "MDM_T02"}, {"MDM", "T09", "MDM_T01"}, {"MDM", "T10", "MDM_T02"},
    {"MDM", "T11", "MDM_T01"}, {"SIU", "S12", "SIU_S12"}, {"SIU", "S13", "SIU_S12"},
    {"SIU", "S14", "SIU_S12"}, {"SIU", "S15", "SIU_S12"}, {"SIU", "S16", "SIU_S12"},
    {"SIU", "S17", "SIU_S12"}, {"SIU", "S18", "SIU_S12"}, {"SIU", "S19", "SIU_S12"},
    {"SIU", "S20", "SIU_S12"}, {"SIU", "S21", "SIU_S12"}, {"SIU", "S22", "SIU_S12"},
    {"SIU", "S23", "SIU_S12"}, {"SIU", "S24", "SIU_S12"}, {"SIU", "S26", "SIU_S12"},
    {"VXU", "V04", "VXU_V04"}, {"VXQ", "V01", "VXQ_V01"}, {"VXR", "V03", "VXR_V03"},
    {"QBP", "Q11", "QBP_Q11"}, {"QBP", "Q21", "QBP_Q21"}, {"QBP", "Q22", "QBP_Q21"},
    {"QBP", "Q23", "QBP_Q21"}, {"RSP", "K11", "RSP_K11"}, {"RSP", "K21", "RSP_K21"},
    {"RSP", "K22", "RSP_K22"}, {"RSP", "K23", "RSP_K23"}, {"RDE", "O11", "RDE_O11"},
    {"RDE", "O25", "RDE_O25"}, {"RDS", "O13", "RDS_O13"}, {"RAS", "O17", "RAS_O17"},
    {"RGV", "O15", "RGV_O15"}, {"DFT", "P03", "DFT_P03"}, {"DFT", "P11", "DFT_P11"},
    {"BAR", "P01", "BAR_P01"}, {"BAR", "P02", "BAR_P02"}, {"BAR", "P05", "BAR_P05"},
    {"BAR", "P06", "BAR_P06"}, {"BAR", "P10", "BAR_P10"}, {"BAR", "P12", "BAR_P12"},
    {"PPR", "PC1", "PPR_PC1"}, {"PPR", "PC2", "PPR_PC1"}, {"PPR", "PC3", "PPR_PC1"},
    {"ADR", "A19", "ADR_A19"}, {"QRY", "A19", "QRY_A19"}, {"MFN", "M02", "MFN_M02"},
};

const char *hl7_structure_for(const char *code, const char *trigger)
{
    if (strcmp(code, "ACK") == 0)
        return "ACK";
    for (size_t i = 0; i < sizeof structures / sizeof structures[0]; i++)
        if (strcmp(structures[i].code, code) == 0 && strcmp(structures[i].trigger, trigger) == 0)
            return structures[i].structure;
    return NULL;
}

/* Copies a component into dst; -1 when it does not fit. */
static int copy_comp(struct hl7_view v, char *dst, size_t n)
{
    size_t len = v.p ? v.len : 0;
    if (len >= n)
        return -1;
    if (len)
        memcpy(dst, v.p, len);
    dst[len] = '\0';
    return 0;
}

static int too_long(struct hl7_err *err, uint32_t field, uint32_t comp)
{
    memset(err, 0, sizeof *err);
    err->code = HL7_E_TOO_LONG;
    memcpy(err->loc.seg, "MSH", 4);
    err->loc.seq = 1;
    err->loc.field = field;
    err->loc.rep = 1;
    err->loc.comp = comp;
    snprintf(err->text, sizeof err->text, "MSH-%u.%u is too long", (unsigned)field, (unsigned)comp);
    return -1;
}

int hl7_msgtype_read(const struct hl7_msg *m, struct hl7_msgtype *t, struct hl7_err *err)
{
    const struct hl7_seg *msh = hl7_seg_find(m, "MSH", 1);
    struct hl7_view f9 = hl7_piece(hl7_field(m, msh, 9), m->enc.rep, 1);
    struct hl7_view f12 = hl7_piece(hl7_field(m, msh, 12), m->enc.rep, 1);
    memset(t, 0, sizeof *t);
    char *names[] = {t->code, t->trigger, t->structure};
    const size_t sizes[] = {sizeof t->code, sizeof t->trigger, sizeof t->structure};
    for (uint32_t c = 0; c < 3; c++)
        if (copy_comp(hl7_piece(f9, m->enc.comp, c + 1), names[c], sizes[c]) != 0)
            return too_long(err, 9, c + 1);
    if (copy_comp(hl7_piece(f12, m->enc.comp, 1), t->version, sizeof t->version) != 0)
        return too_long(err, 12, 1);
    if (t->code[0] == '\0') {
        memset(err, 0, sizeof *err);
        err->code = HL7_E_REQUIRED_MISSING;
        err->loc = (struct hl7_loc){"MSH", 1, 9, 1, 1, 0};
        snprintf(err->text, sizeof err->text, "MSH-9 (message type) is empty");
        return -1;
    }
    const char *s = hl7_structure_for(t->code, t->trigger);
    if (t->structure[0] == '\0' && s)
        snprintf(t->structure, sizeof t->structure, "%s", s);
    return 0;
}

int hl7_version_cmp(const char *version, int major, int minor)
{
    long vmaj = 0, vmin = 0;
    const char *p = version;
    while (*p >= '0' && *p <= '9' && vmaj < 100)
        vmaj = vmaj * 10 + (*p++ - '0');
    if (*p == '.')
        p++;
    while (*p >= '0' && *p <= '9' && vmin < 100)
        vmin = vmin * 10 + (*p++ - '0');
    if (vmaj != major)
        return vmaj < major ? -1 : 1;
    return vmin < minor ? -1 : vmin > minor ? 1 : 0;
}
