/*
 * fault — named points where the tests make the engine fail on purpose, deterministically:
 * crash there (as kill -9 would, but at exactly that step) or have the step fail. Off
 * unless the environment variable SOLENT_FAULTS names points when the process starts:
 *
 *   SOLENT_FAULTS="intake_after_commit=crash"     _exit(86) at the first time it is reached
 *   SOLENT_FAULTS="dir_rename=fail:2,dir_fsync=fail:1"   the next 2 (1) times, the step fails
 *   SOLENT_FAULTS="intake_before_commit=delay:300"      every time, the step waits 300 ms
 *
 * Points: intake_before_commit (delay: a slow disk), intake_after_commit (crash: committed,
 * no ACK sent),
 * delivery_after_send (crash: a bundle sent, its outcome not recorded), dir_write,
 * dir_rename, dir_fsync, audit_write (fail). With SOLENT_FAULTS unset a point costs one branch.
 * Not for production use: README names it as a test facility.
 */
#ifndef SOLENT_ENGINE_FAULT_H
#define SOLENT_ENGINE_FAULT_H

#include <stdbool.h>

/* Reads SOLENT_FAULTS (at start, before any thread). */
void fault_init(void);
/* At point name: exits the process (status 86) when it is to crash there; returns true when
 * the step is to fail this time, false otherwise. Thread-safe. */
bool fault_at(const char *name);

#endif
