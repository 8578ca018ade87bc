/*
 * Unit tests for engine/intake: everything queued while the store thread is busy is
 * committed in ONE transaction, every item is reported once and only after its batch
 * is durable, and stopping drains the queue.
 */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/intake.h"
#include "tests/unit/testutil.h"

#define N 1000

static sem_t release;
static int done_count, failures, first_started;
static int64_t ids[N];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* A store in a new directory (dir, a mkdtemp template) and its intake thread. */
static struct intake *start(char *dir, struct store **s)
{
    char path[128], err[256];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/solent.db", dir);
    *s = store_open(path, err, sizeof err);
    ck_assert_msg(*s != NULL, "%s", err);
    struct intake *in = intake_start(*s, err, sizeof err);
    ck_assert_ptr_nonnull(in);
    sem_init(&release, 0, 0);
    failures = first_started = 0;
    return in;
}

/* Called from item i's completion: item 0 holds the store thread until released, so all
 * that is submitted meanwhile is queued for the next batch. */
static void hold_if_first(intptr_t i)
{
    if (i != 0)
        return;
    pthread_mutex_lock(&lock);
    first_started = 1;
    pthread_mutex_unlock(&lock);
    sem_wait(&release);
}

/* After submitting item 0: waits until its batch is committed and reporting (held). */
static void wait_first_held(void)
{
    for (int started = 0; !started; usleep(1000)) {
        pthread_mutex_lock(&lock);
        started = first_started;
        pthread_mutex_unlock(&lock);
    }
}

static void finish(struct store *s, const char *dir)
{
    store_close(s);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static void on_done(void *arg, int rc, int64_t id, enum store_status status, const char *ack,
                    size_t ack_len)
{
    (void)ack, (void)ack_len, (void)status;
    intptr_t i = (intptr_t)arg;
    hold_if_first(i); /* until the other N - 1 are queued */
    pthread_mutex_lock(&lock);
    done_count++;
    failures += rc != 0;
    ids[i] = id;
    pthread_mutex_unlock(&lock);
}

START_TEST(test_group_commit)
{
    char dir[] = "/tmp/solent-intake-XXXXXX", ctrl[16];
    struct store *s;
    struct intake *in = start(dir, &s);
    for (intptr_t i = 0; i < N; i++) {
        struct store_outbox out = {"phr", "phr|key", "{}", 2, 0};
        snprintf(ctrl, sizeof ctrl, "%ld", (long)i);
        struct store_message m = {.listener = "pas",
                                  .sending_app = "PAS",
                                  .sending_facility = "F",
                                  .control_id = ctrl,
                                  .message_type = "ADT^A01",
                                  .status = STORE_ACCEPTED,
                                  .raw = "MSH|x",
                                  .raw_len = 5,
                                  .outbox = &out,
                                  .noutbox = 1};
        intake_submit(in, intake_item_new(&m, on_done, (void *)i));
        if (i == 0)
            wait_first_held();
    }
    sem_post(&release);
    intake_stop(in);
    ck_assert_int_eq(done_count, N);
    ck_assert_int_eq(failures, 0);
    ck_assert_uint_eq(store_stats(s).messages, N);
    ck_assert_uint_eq(store_stats(s).transactions, 2); /* the first alone, the other 999 together */
    for (int i = 1; i < N; i++)
        ck_assert_int_eq(ids[i], ids[i - 1] + 1); /* committed in submission order */
    finish(s, dir);
}
END_TEST

/* A resend on another connection that lands in the same batch as its first copy (both
 * queued while the store was busy) is a duplicate answered with the first ACK, as it would
 * be in a later batch; a reused control id with other content, or another facility's, is
 * not. */
static enum store_status seen_status[5];
static char seen_ack[5][16];

static void on_done_dup(void *arg, int rc, int64_t id, enum store_status status, const char *ack,
                        size_t ack_len)
{
    intptr_t i = (intptr_t)arg;
    (void)id;
    hold_if_first(i); /* the blocker: until the others are queued */
    pthread_mutex_lock(&lock);
    failures += rc != 0;
    seen_status[i] = status;
    snprintf(seen_ack[i], sizeof seen_ack[i], "%.*s", (int)ack_len, ack ? ack : "");
    pthread_mutex_unlock(&lock);
}

static char rows_seen[256];

static void on_row(void *arg, const struct store_row *r)
{
    (void)arg;
    size_t n = strlen(rows_seen);
    snprintf(rows_seen + n, sizeof rows_seen - n, "%s/%zu ", r->status, r->noutbox);
}

START_TEST(test_duplicate_in_one_batch)
{
    char dir[] = "/tmp/solent-intake-XXXXXX";
    struct store *s;
    struct intake *in = start(dir, &s);
    /* 0: a blocker; 1: D1; 2: D1 again, same content; 3: D1, other content; 4: D1 from G */
    static const char *const ctrl[] = {"B0", "D1", "D1", "D1", "D1"};
    static const char *const facility[] = {"F", "F", "F", "F", "G"};
    static const char content[] = {0, 1, 1, 2, 1};
    static const char *const acks[] = {"ACK-0", "ACK-1", "ACK-2", "ACK-3", "ACK-4"};
    for (intptr_t i = 0; i < 5; i++) {
        struct store_outbox out = {"phr", "phr|key", "{}", 2, 0};
        struct store_message m = {.listener = "pas",
                                  .sending_app = "PAS",
                                  .sending_facility = facility[i],
                                  .control_id = ctrl[i],
                                  .message_type = "ADT^A01",
                                  .status = STORE_ACCEPTED,
                                  .raw = "MSH|x",
                                  .raw_len = 5,
                                  .ack = acks[i],
                                  .ack_len = strlen(acks[i]),
                                  .outbox = &out,
                                  .noutbox = 1};
        m.hash[0] = (unsigned char)content[i];
        intake_submit(in, intake_item_new(&m, on_done_dup, (void *)i));
        if (i == 0)
            wait_first_held();
    }
    sem_post(&release);
    intake_stop(in);
    ck_assert_int_eq(failures, 0);
    ck_assert_uint_eq(store_stats(s).transactions, 2); /* the blocker, then the four together */
    ck_assert_int_eq(seen_status[1], STORE_ACCEPTED);
    ck_assert_str_eq(seen_ack[1], "ACK-1");
    ck_assert_int_eq(seen_status[2], STORE_DUPLICATE);
    ck_assert_str_eq(seen_ack[2], "ACK-1"); /* the first copy's ACK, not its own */
    ck_assert_int_eq(seen_status[3], STORE_ACCEPTED);
    ck_assert_str_eq(seen_ack[3], "ACK-3");
    ck_assert_int_eq(seen_status[4], STORE_ACCEPTED);
    ck_assert_str_eq(seen_ack[4], "ACK-4");
    ck_assert_uint_eq(store_stats(s).messages, 5); /* every copy is kept */
    struct store_filter f = {.control_id = "D1"};
    ck_assert_int_eq(store_list(s, &f, on_row, NULL), 0);
    ck_assert_str_eq(rows_seen, "accepted/1 accepted/1 duplicate/0 accepted/1 "); /* newest first */
    finish(s, dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("intake");
    TCase *tc = tcase_create("group commit");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_group_commit);
    tcase_add_test(tc, test_duplicate_in_one_batch);
    suite_add_tcase(s, tc);
    return test_run(s);
}
