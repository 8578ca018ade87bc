/* fault — deterministic failures at named points, for the tests (SOLENT_FAULTS). */
#include "engine/fault.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/log.h"

#define FAULTS_MAX 8

static struct fault {
    char name[40];
    bool crash;
    int fails;    /* atomic: failures left */
    int delay_ms; /* each time: the step waits this long first */
} faults[FAULTS_MAX];
static int nfaults; /* 0: fault_at returns at once */

void fault_init(void)
{
    const char *spec = getenv("SOLENT_FAULTS");
    char buf[512];
    if (!spec || !*spec || snprintf(buf, sizeof buf, "%s", spec) >= (int)sizeof buf)
        return;
    for (char *item = buf, *next; item && *item && nfaults < FAULTS_MAX; item = next) {
        next = strchr(item, ',');
        if (next)
            *next++ = '\0';
        char *eq = strchr(item, '=');
        if (!eq || (size_t)(eq - item) >= sizeof faults[0].name)
            continue;
        struct fault *f = &faults[nfaults];
        memcpy(f->name, item, (size_t)(eq - item));
        f->crash = strcmp(eq + 1, "crash") == 0;
        f->fails = strncmp(eq + 1, "fail:", 5) == 0 ? (int)strtol(eq + 6, NULL, 10) : 0;
        f->delay_ms = strncmp(eq + 1, "delay:", 6) == 0 ? (int)strtol(eq + 7, NULL, 10) : 0;
        if (f->crash || f->fails > 0 || f->delay_ms > 0)
            nfaults++;
    }
    for (int i = 0; i < nfaults; i++)
        log_warn("fault_armed", "point=%s action=%s count=%d", faults[i].name,
                 faults[i].crash      ? "crash"
                 : faults[i].delay_ms ? "delay"
                                      : "fail",
                 faults[i].delay_ms ? faults[i].delay_ms : faults[i].fails);
}

bool fault_at(const char *name)
{
    for (int i = 0; i < nfaults; i++) {
        if (strcmp(faults[i].name, name) != 0)
            continue;
        if (faults[i].crash) {
            log_warn("fault_crash", "point=%s", name);
            _exit(86);
        }
        if (faults[i].delay_ms)
            usleep((useconds_t)faults[i].delay_ms * 1000);
        return __atomic_fetch_sub(&faults[i].fails, 1, __ATOMIC_RELAXED) > 0;
    }
    return false;
}
