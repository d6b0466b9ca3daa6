/*
 * The test guest's clipboard agent (virtdeck.vdagent=1): just enough of the SPICE agent
 * protocol on the virtio port com.redhat.spice.0 for QEMU's qemu-vdagent chardev to
 * share the clipboard. Text only, the clipboard selection only, no grab serials.
 *
 *   - the other side grabs its clipboard  -> asks for the text, prints
 *     "VDAGENT-CLIPBOARD: <text>" (newlines as \n) on standard output;
 *   - a line "TEXT" on the FIFO named by argv[1] -> grabs the guest's clipboard with TEXT
 *     and hands it over when asked ("VDAGENT: grabbed", "VDAGENT: sent").
 *
 * Messages are little-endian: a chunk header (port, size) and, in one or more chunks, a
 * message (protocol, type, opaque, size, data).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PORT_NAME "com.redhat.spice.0"
#define PROTOCOL 1
#define CLIENT_PORT 1
#define CLIPBOARD 4
#define ANNOUNCE_CAPABILITIES 6
#define CLIPBOARD_GRAB 7
#define CLIPBOARD_REQUEST 8
#define CLIPBOARD_RELEASE 9
#define CAP_CLIPBOARD_BY_DEMAND 5
#define UTF8_TEXT 1
#define MAX_MESSAGE (2 * 1024 * 1024)

static int port = -1;
static char grabbed[4096];
static size_t grabbed_len;

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = v;
    p[1] = v >> 8;
    p[2] = v >> 16;
    p[3] = v >> 24;
}

static uint32_t get32(const uint8_t *p)
{
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static void write_all(const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t done = write(port, p, n);
        if (done < 0 && errno == EINTR)
            continue;
        if (done <= 0) {
            printf("VDAGENT: write failed: %s\n", strerror(errno));
            exit(1);
        }
        p += done;
        n -= done;
    }
}

/* One message in one chunk: the messages sent here are small. */
static void send_message(uint32_t type, const uint8_t *data, uint32_t size)
{
    uint8_t head[8 + 20];
    put32(head, CLIENT_PORT);
    put32(head + 4, 20 + size);
    put32(head + 8, PROTOCOL);
    put32(head + 12, type);
    memset(head + 16, 0, 8);
    put32(head + 24, size);
    write_all(head, sizeof head);
    write_all(data, size);
}

static void send_caps(int request)
{
    uint8_t caps[8];
    put32(caps, request);
    put32(caps + 4, 1u << CAP_CLIPBOARD_BY_DEMAND);
    send_message(ANNOUNCE_CAPABILITIES, caps, sizeof caps);
}

static void print_text(const uint8_t *text, uint32_t size)
{
    printf("VDAGENT-CLIPBOARD: ");
    for (uint32_t i = 0; i < size; i++) {
        if (text[i] == '\n')
            fputs("\\n", stdout);
        else if (text[i] != '\0')
            putchar(text[i]);
    }
    putchar('\n');
}

static void handle(uint32_t type, const uint8_t *data, uint32_t size)
{
    uint8_t reply[4096 + 4];
    switch (type) {
    case ANNOUNCE_CAPABILITIES:
        if (size >= 4 && get32(data))
            send_caps(0);
        printf("VDAGENT: connected\n");
        break;
    case CLIPBOARD_GRAB:
        for (uint32_t i = 0; i + 4 <= size; i += 4) {
            if (get32(data + i) == UTF8_TEXT) {
                put32(reply, UTF8_TEXT);
                send_message(CLIPBOARD_REQUEST, reply, 4);
                printf("VDAGENT: grab\n");
                return;
            }
        }
        break;
    case CLIPBOARD:
        if (size >= 4 && get32(data) == UTF8_TEXT)
            print_text(data + 4, size - 4);
        break;
    case CLIPBOARD_REQUEST:
        put32(reply, UTF8_TEXT);
        memcpy(reply + 4, grabbed, grabbed_len);
        send_message(CLIPBOARD, reply, 4 + grabbed_len);
        printf("VDAGENT: sent\n");
        break;
    case CLIPBOARD_RELEASE:
        printf("VDAGENT: released\n");
        break;
    }
}

/* Reads chunks from the port and hands each whole message to handle(). */
static void read_port(void)
{
    static uint8_t buf[MAX_MESSAGE + 8];
    static size_t have;
    static uint8_t *message;
    static size_t message_len;
    ssize_t n = read(port, buf + have, sizeof buf - have);
    if (n <= 0) {
        if (n < 0 && errno == EINTR)
            return;
        printf("VDAGENT: port closed\n");
        exit(1);
    }
    have += n;
    for (;;) {
        if (have < 8)
            return;
        uint32_t chunk = get32(buf + 4);
        if (chunk > MAX_MESSAGE) {
            printf("VDAGENT: chunk too large\n");
            exit(1);
        }
        if (have < 8 + chunk)
            return;
        message = realloc(message, message_len + chunk);
        memcpy(message + message_len, buf + 8, chunk);
        message_len += chunk;
        memmove(buf, buf + 8 + chunk, have - 8 - chunk);
        have -= 8 + chunk;
        while (message_len >= 20 && message_len >= 20 + get32(message + 16)) {
            uint32_t size = get32(message + 16);
            handle(get32(message + 4), message + 20, size);
            memmove(message, message + 20 + size, message_len - 20 - size);
            message_len -= 20 + size;
        }
        if (message_len >= 20 && get32(message + 16) > MAX_MESSAGE) {
            printf("VDAGENT: message too large\n");
            exit(1);
        }
    }
}

/* A line on the FIFO: the guest's new clipboard text. */
static void read_fifo(int fifo)
{
    char line[sizeof grabbed];
    ssize_t n = read(fifo, line, sizeof line - 1);
    if (n <= 0)
        return;
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    memcpy(grabbed, line, n);
    grabbed_len = n;
    uint8_t types[4];
    put32(types, UTF8_TEXT);
    send_message(CLIPBOARD_GRAB, types, sizeof types);
    printf("VDAGENT: grabbed\n");
}

/* The port named PORT_NAME: udev's /dev/virtio-ports/ link, or (no udev here) the
 * /dev/vportNpM whose sysfs name it is. */
static int open_port(void)
{
    int fd = open("/dev/virtio-ports/" PORT_NAME, O_RDWR);
    if (fd >= 0)
        return fd;
    DIR *dir = opendir("/sys/class/virtio-ports");
    struct dirent *entry;
    while (dir && (entry = readdir(dir))) {
        char path[512], name[64] = "";
        snprintf(path, sizeof path, "/sys/class/virtio-ports/%s/name", entry->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        if (fgets(name, sizeof name, f) && strcmp(strtok(name, "\n"), PORT_NAME) == 0) {
            snprintf(path, sizeof path, "/dev/%s", entry->d_name);
            fd = open(path, O_RDWR);
        }
        fclose(f);
        if (fd >= 0)
            break;
    }
    if (dir)
        closedir(dir);
    return fd;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc != 2) {
        fprintf(stderr, "usage: vdagent FIFO\n");
        return 2;
    }
    for (int tries = 0; (port = open_port()) < 0; tries++) {
        if (tries == 300) {
            printf("VDAGENT: no port %s\n", PORT_NAME);
            return 1;
        }
        usleep(100000);
    }
    int fifo = open(argv[1], O_RDWR | O_NONBLOCK);
    if (fifo < 0) {
        printf("VDAGENT: no FIFO %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    send_caps(1);
    printf("VDAGENT: started\n");
    struct pollfd fds[2] = {{port, POLLIN, 0}, {fifo, POLLIN, 0}};
    for (;;) {
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return 1;
        }
        if (fds[0].revents & (POLLIN | POLLHUP))
            read_port();
        if (fds[1].revents & POLLIN)
            read_fifo(fifo);
    }
}
