/* cmd_convert — `solent convert`: HL7v2 messages to FHIR R4 transaction Bundles. */
#ifndef SOLENT_ENGINE_CMD_CONVERT_H
#define SOLENT_ENGINE_CMD_CONVERT_H

/* Runs the command; returns the process exit status (0 ok, 1 a message failed, 2 usage). */
int cmd_convert_run(int argc, char **argv);

#endif
