/* seg_spm — SPM (specimen) to Specimen, per the IG's SPM[Specimen] map. */
#ifndef SOLENT_TRANSFORMS_SEG_SPM_H
#define SOLENT_TRANSFORMS_SEG_SPM_H

#include "transforms/xf_bundle.h"

extern const struct xf_segmap seg_spm;

/* Adds the Specimen entry for s; its fullUrl goes into url. */
void seg_spm_add(struct xf_ctx *x, const struct hl7_seg *s, const char *report_key,
                 char url[XF_URL_MAX]);

/* Adds the Specimen the IG's OBR[Specimen] map makes when a group has no SPM: collection
 * time from OBR-7 (to OBR-8), type and body site from OBR-15. */
void seg_spm_from_obr(struct xf_ctx *x, const struct hl7_seg *obr, const char *report_key,
                      char url[XF_URL_MAX]);

#endif
