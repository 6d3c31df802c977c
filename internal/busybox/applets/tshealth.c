/* vi: set sw=4 ts=4: */
/*
 * tshealth: the container's health check. Asks tailscaled's LocalAPI for
 * its backend state and exits 0 only when it is Running. A BusyBox applet
 * so that a check every few seconds costs an applet exec, not a start of
 * the UPX'd tailscale CLI (docs/PERFORMANCE.md).
 *
 * Part of mikrotik-tailscale, written into the BusyBox source tree before
 * it is configured (internal/busybox/extra.go).
 *
 * Licensed under GPLv2, see file LICENSE in this source tree.
 */
//config:config TSHEALTH
//config:	bool "tshealth (1.2 kb)"
//config:	default y
//config:	help
//config:	Exit 0 if tailscaled answers on its LocalAPI socket and reports
//config:	the backend state Running; otherwise print why and exit 1.

//applet:IF_TSHEALTH(APPLET(tshealth, BB_DIR_BIN, BB_SUID_DROP))

//kbuild:lib-$(CONFIG_TSHEALTH) += tshealth.o

//usage:#define tshealth_trivial_usage
//usage:       "[-s SOCKET] [-t SEC]"
//usage:#define tshealth_full_usage "\n\n"
//usage:       "Exit 0 if tailscaled's backend state is Running\n"
//usage:     "\n	-s SOCKET	tailscaled's socket"
//usage:     "\n			(default /var/run/tailscale/tailscaled.sock)"
//usage:     "\n	-t SEC		Give up after SEC seconds (default 5)"

#include "libbb.h"
#include <sys/un.h>

/* The image starts tailscaled with --socket= this path (internal/layout). */
#define TSHEALTH_SOCKET "/var/run/tailscale/tailscaled.sock"

/* The request the tailscale CLI makes for `tailscale status --self`: the
 * LocalAPI wants this Host, and HTTP/1.0 makes tailscaled close the
 * connection after a plain (not chunked) body. */
static const char request[] ALIGN1 =
	"GET /localapi/v0/status?peers=false HTTP/1.0\r\n"
	"Host: local-tailscaled.sock\r\n"
	"\r\n";

static void timed_out(int sig UNUSED_PARAM)
{
	/* A hung tailscaled is an unhealthy one. (write(2) and _exit(2)
	 * only: a signal handler must not allocate.) */
	full_write2_str("tshealth: tailscaled did not answer in time\n");
	_exit(EXIT_FAILURE);
}

int tshealth_main(int argc, char **argv) MAIN_EXTERNALLY_VISIBLE;
int tshealth_main(int argc UNUSED_PARAM, char **argv)
{
	const char *sock = TSHEALTH_SOCKET;
	const char *secs = "5";
	struct sockaddr_un sun;
	/* BackendState is among the first fields of the status JSON: the
	 * headers and the start of the body fit with room to spare. */
	char buf[4096];
	char *p, *end;
	ssize_t n;
	int fd;

	getopt32(argv, "^s:t:" "\0" "=0", &sock, &secs);
	signal(SIGALRM, timed_out);
	alarm(xatou_range(secs, 1, 3600));

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(sock) >= sizeof(sun.sun_path))
		bb_error_msg_and_die("socket path too long: %s", sock);
	strcpy(sun.sun_path, sock);
	fd = xsocket(AF_UNIX, SOCK_STREAM, 0);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0)
		bb_perror_msg_and_die("tailscaled is not running: can't connect to %s", sock);
	xwrite_str(fd, request);
	n = full_read(fd, buf, sizeof(buf) - 1);
	if (n < 0)
		bb_simple_perror_msg_and_die("read from tailscaled");
	buf[n] = '\0';

	/* "HTTP/1.x 200 ..." */
	end = strchrnul(buf, '\r');
	if (strncmp(buf, "HTTP/1.", 7) != 0 || strncmp(buf + 8, " 200 ", 5) != 0) {
		*end = '\0';
		bb_error_msg_and_die("tailscaled answered: %s", buf);
	}
	/* "BackendState": "Running" (json.Encoder, any spacing) */
	p = strstr(buf, "\"BackendState\"");
	if (!p)
		bb_simple_error_msg_and_die("no BackendState in tailscaled's answer");
	p = skip_whitespace(p + sizeof("\"BackendState\"") - 1);
	if (*p == ':')
		p = skip_whitespace(p + 1);
	if (*p != '"' || !(end = strchr(++p, '"')))
		bb_simple_error_msg_and_die("no BackendState in tailscaled's answer");
	*end = '\0';
	if (strcmp(p, "Running") != 0)
		bb_error_msg_and_die("backend state %s, not Running", p);
	return EXIT_SUCCESS;
}
