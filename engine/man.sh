#!/bin/sh
# Writes the manual pages from the built binary, so they say what it does:
#   solent.1      from `solent --help` and each command's --help
#   solent.conf.5 from `solent check-config --keys` (the loader's own key tables: a key it
#                 knows cannot be missing) with each key's description taken from the
#                 comments above it in the shipped conf/solent.conf
# usage: man.sh SOLENT CONF OUTDIR
set -eu
solent=$1
conf=$2
out=$3
mkdir -p "$out"
version=$("$solent" --version | sed 's/^solent //')

# roff-safe text: backslashes, and a leading . or ' that would be a request
esc() { sed -e 's/\\/\\e/g' -e "s/^\([.']\)/\\\\\&\1/"; }

{
    printf '.TH SOLENT 1 "" "solent %s" "Solent"\n' "$version"
    printf '.SH NAME\nsolent \\- HL7v2-to-FHIR interface engine\n'
    printf '.SH SYNOPSIS\n.B solent\n.I COMMAND\n[\\fIOPTIONS\\fR] [\\fIARGS\\fR]\n'
    printf '.SH DESCRIPTION\n'
    printf 'Solent receives HL7v2 messages over MLLP, stores each durably before it acknowledges it, routes it, transforms it into FHIR R4 following the HL7 V2-to-FHIR Implementation Guide, and delivers the bundles to FHIR servers in order per patient, with retries.\n'
    printf 'Commands that read a configuration take \\fB-c\\fR \\fIFILE\\fR; without it they read \\fIconf/solent.conf\\fR when there is one in the working directory, else \\fI/etc/solent/solent.conf\\fR.\n'
    printf '.SH COMMANDS\n'
    "$solent" --help | sed -n 's/^  \([a-z-]*\)  *\(.*\)$/\1/p' | while read -r cmd; do
        printf '.SS %s\n' "$cmd"
        printf '.nf\n'
        "$solent" "$cmd" --help 2>&1 | esc
        printf '.fi\n'
    done
    printf '.SH FILES\n.TP\n.I /etc/solent/solent.conf\nthe configuration (see \\fBsolent.conf\\fR(5))\n'
    printf '.TP\n.I /var/lib/solent\nthe data directory: the store, directory destinations\n'
    printf '.SH SIGNALS\nSIGHUP reloads the configuration; SIGTERM and SIGINT stop the engine once what it holds is committed and acknowledged.\n'
    printf '.SH SEE ALSO\n\\fBsolent.conf\\fR(5)\n'
} > "$out/solent.1"

# Each key's description: the comment block above it (shared by the keys of a group), and a
# commented key's example in parentheses.
"$solent" check-config --keys > "$out/keys.tsv"
awk -v keys="$out/keys.tsv" '
    BEGIN { FS = "\t"; while ((getline line < keys) > 0) { split(line, f, "\t"); known[f[1] SUBSEP f[2]] = 1 } FS = " " }
    /^(# )?\[[a-z]/ {
        h = $0; sub(/^# /, "", h); gsub(/^\[|\].*$/, "", h); n = split(h, w, " ")
        section = (w[1] == "admin" && w[2] == "token") ? "admin token" : w[1]
        after_key = 0; next  # the comment above a section describes its first keys
    }
    /^[ \t]*$/ { block = ""; after_key = 0; next }
    {
        line = $0; commented = sub(/^# ?/, "", line)
        key = line; sub(/[ \t]*=.*$/, "", key)
        if (key ~ /^[a-z_]+$/ && line ~ /^[a-z_]+[ \t]*=/ && ((section SUBSEP key) in known)) {
            eg = ""; if (match(line, /\(e\.g\. [^)]*\)|\((required|basic|[a-z ,]+)[^)]*\)/)) eg = substr(line, RSTART, RLENGTH)
            if (!((section SUBSEP key) in desc)) { desc[section SUBSEP key] = block; example[section SUBSEP key] = eg }
            after_key = 1; next
        }
        if (commented) { if (after_key) { block = ""; after_key = 0 } block = block (block == "" ? "" : " ") line }
    }
    END { for (k in desc) { gsub(/\t/, " ", desc[k]); printf "%s\t%s\t%s\n", k, desc[k], example[k] } }
' "$conf" | awk -F '\034' '{ print $1 "\t" $2 }' > "$out/desc.tsv"

{
    printf '.TH SOLENT.CONF 5 "" "solent %s" "Solent"\n' "$version"
    printf '.SH NAME\nsolent.conf \\- the Solent engine'"'"'s configuration\n'
    printf '.SH DESCRIPTION\nAn INI file: \\fB[kind]\\fR or \\fB[kind NAME]\\fR sections of \\fIkey = value\\fR lines; # starts a comment. Secrets are never written in it: \\fIenv:VARIABLE\\fR or \\fIfile:PATH\\fR. Durations take a unit (500ms, 30s, 5m, 2h, 7d), sizes one of K, M, G. An error is reported as \\fIfile:line: problem\\fR and the engine does not start; \\fBsolent check-config\\fR checks a file, and SIGHUP reloads it. [identifiers] maps AUTHORITY[:TYPE] to a system URI, [codes] a local coding system to a CSV map.\n'
    printf 'This page lists every key the loader knows, with its default, made from the same tables the loader reads.\n'
    prev=
    while IFS="$(printf '\t')" read -r section key dflt; do
        if [ "$section" != "$prev" ]; then
            case $section in
                listener|route|destination|peer|"admin token") printf '.SH [%s NAME]\n' "$section" ;;
                *) printf '.SH [%s]\n' "$section" ;;
            esac
            prev=$section
        fi
        printf '.TP\n\\fB%s\\fR = %s\n' "$key" "$(printf '%s' "${dflt:-(none)}" | esc)"
        awk -F '\t' -v s="$section" -v k="$key" '$1 == s && $2 == k { print $3 (($4 != "") ? " " $4 : "") }' "$out/desc.tsv" | esc
    done < "$out/keys.tsv"
    printf '.SH FILES\n.I /etc/solent/solent.conf\n.SH SEE ALSO\n\\fBsolent\\fR(1)\n'
} > "$out/solent.conf.5"
rm -f "$out/keys.tsv" "$out/desc.tsv"
