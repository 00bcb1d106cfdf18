package dovecot

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ErrNotInstalled means no dovecot binary was found.
var ErrNotInstalled = errors.New("dovecot: not installed (Debian: apt-get install dovecot-imapd)")

// Options configures a private Dovecot. The zero value is a plain-text
// server with one user.
type Options struct {
	// Dir holds the configuration, the users file, the mail and the runtime
	// files. Empty means a new temporary directory, removed by Stop.
	Dir string
	// Users maps user names to passwords. Empty means one user, "analyst",
	// with a random password.
	Users map[string]string
	// Cert, when set, turns TLS on: the IMAP port offers STARTTLS and
	// TLSAddr speaks TLS from the first byte.
	Cert *Certificate
	// Binary is the dovecot executable; empty means "dovecot" on PATH or
	// /usr/sbin/dovecot.
	Binary string
	// StartTimeout bounds the wait for the server to greet (default 15s).
	StartTimeout time.Duration
}

// Server is a running private Dovecot.
type Server struct {
	// Addr is the loopback host:port of the IMAP listener (plain text, with
	// STARTTLS when Options.Cert was set).
	Addr string
	// TLSAddr is the host:port of the implicit-TLS listener, or "" without
	// Options.Cert.
	TLSAddr string
	// Dir is the directory that holds everything of this server.
	Dir string

	conf    string
	binary  string
	ownDir  bool
	cmd     *exec.Cmd
	exited  chan struct{}
	mu      sync.Mutex
	users   map[string]string
	stopped bool
}

// Binary returns the path of the dovecot executable, or ErrNotInstalled.
func Binary() (string, error) {
	if p, err := exec.LookPath("dovecot"); err == nil {
		return p, nil
	}
	for _, p := range []string{"/usr/sbin/dovecot", "/usr/local/sbin/dovecot"} {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
	}
	return "", ErrNotInstalled
}

// Launch starts a private Dovecot on free loopback ports, with its own
// configuration, users and mail store, and waits until it greets. It
// touches no system state beyond creating the "vmail" system user when
// running as root and the user is missing. Stop ends it.
func Launch(ctx context.Context, opts Options) (*Server, error) {
	bin := opts.Binary
	if bin == "" {
		var err error
		if bin, err = Binary(); err != nil {
			return nil, err
		}
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = 15 * time.Second
	}
	users := make(map[string]string)
	for u, p := range opts.Users {
		if err := checkCredential(u, p); err != nil {
			return nil, err
		}
		users[u] = p
	}
	if len(users) == 0 {
		users["analyst"] = RandomPassword()
	}
	owner, err := mailOwner()
	if err != nil {
		return nil, err
	}

	var lastErr error
	// A free port can be taken between choosing it and Dovecot binding it;
	// try again with new ports a few times.
	for attempt := 0; attempt < 3; attempt++ {
		s, err := launchOnce(ctx, bin, opts, users, owner)
		if err == nil {
			return s, nil
		}
		lastErr = err
		if ctx.Err() != nil || !strings.Contains(err.Error(), "in use") {
			break
		}
	}
	return nil, lastErr
}

func launchOnce(ctx context.Context, bin string, opts Options, users map[string]string, owner *mailUser) (*Server, error) {
	s := &Server{binary: bin, users: users, exited: make(chan struct{})}
	if opts.Dir == "" {
		dir, err := os.MkdirTemp("", "synapse-dovecot-")
		if err != nil {
			return nil, fmt.Errorf("dovecot: %w", err)
		}
		s.Dir, s.ownDir = dir, true
	} else {
		s.Dir = opts.Dir
		if err := os.MkdirAll(s.Dir, 0o755); err != nil {
			return nil, fmt.Errorf("dovecot: %w", err)
		}
	}
	fail := func(err error) (*Server, error) {
		if s.ownDir {
			os.RemoveAll(s.Dir)
		}
		return nil, err
	}
	// The login and mail processes run as other users: they must reach
	// the directory.
	if err := os.Chmod(s.Dir, 0o755); err != nil {
		return fail(fmt.Errorf("dovecot: %w", err))
	}
	for _, sub := range []string{"run", "mail"} {
		if err := os.MkdirAll(filepath.Join(s.Dir, sub), 0o755); err != nil {
			return fail(fmt.Errorf("dovecot: %w", err))
		}
	}
	if err := os.Chown(filepath.Join(s.Dir, "mail"), owner.uid, owner.gid); err != nil && os.Geteuid() == 0 {
		return fail(fmt.Errorf("dovecot: %w", err))
	}
	port, err := freePort()
	if err != nil {
		return fail(err)
	}
	s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	tlsPort := 0
	if opts.Cert != nil {
		if tlsPort, err = freePort(); err != nil {
			return fail(err)
		}
		s.TLSAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(tlsPort))
		if err := os.WriteFile(filepath.Join(s.Dir, "cert.pem"), opts.Cert.CertPEM, 0o644); err != nil {
			return fail(fmt.Errorf("dovecot: %w", err))
		}
		if err := os.WriteFile(filepath.Join(s.Dir, "key.pem"), opts.Cert.KeyPEM, 0o600); err != nil {
			return fail(fmt.Errorf("dovecot: %w", err))
		}
	}
	if err := s.writeUsers(); err != nil {
		return fail(err)
	}
	s.conf = filepath.Join(s.Dir, "dovecot.conf")
	if err := os.WriteFile(s.conf, []byte(config(s.Dir, port, tlsPort, opts.Cert != nil, owner)), 0o644); err != nil {
		return fail(fmt.Errorf("dovecot: %w", err))
	}

	// -F keeps the master in the foreground, so that this process owns it.
	s.cmd = exec.Command(bin, "-F", "-c", s.conf)
	var stderr bytes.Buffer
	s.cmd.Stdout = &stderr
	s.cmd.Stderr = &stderr
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		return fail(fmt.Errorf("dovecot: start %s: %w", bin, err))
	}
	go func() {
		_ = s.cmd.Wait()
		close(s.exited)
	}()
	if err := s.waitReady(ctx, opts.StartTimeout); err != nil {
		s.kill()
		msg := strings.TrimSpace(stderr.String())
		if tail := s.LogTail(20); tail != "" {
			msg += "\n" + tail
		}
		return fail(fmt.Errorf("dovecot: %w\n%s", err, msg))
	}
	return s, nil
}

// waitReady waits until the IMAP port greets with "* OK", the process
// exits or the timeout passes.
func (s *Server) waitReady(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	addrs := []string{s.Addr}
	if s.TLSAddr != "" {
		addrs = append(addrs, s.TLSAddr)
	}
	for {
		ready := true
		for _, a := range addrs {
			if a == s.Addr {
				if !greets(ctx, a) {
					ready = false
				}
			} else if !listens(ctx, a) {
				ready = false
			}
		}
		if ready {
			return nil
		}
		select {
		case <-s.exited:
			return errors.New("the server exited while starting")
		case <-ctx.Done():
			return fmt.Errorf("no greeting on %s: %w", s.Addr, ctx.Err())
		case <-tick.C:
		}
	}
}

func greets(ctx context.Context, addr string) bool {
	d := net.Dialer{Timeout: time.Second}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "* OK")
}

func listens(ctx context.Context, addr string) bool {
	d := net.Dialer{Timeout: time.Second}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// Stop stops the server and removes its directory if Launch created it.
// Stopping twice is not an error.
func (s *Server) Stop() error {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return nil
	}
	s.stopped = true
	s.mu.Unlock()
	s.kill()
	if s.ownDir {
		return os.RemoveAll(s.Dir)
	}
	return nil
}

// kill ends the master and its children and waits for the master.
func (s *Server) kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	// SIGTERM makes the master stop its children; the whole process group
	// is killed if it does not exit in time.
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.exited
	}
}

// Users returns a copy of the user names and passwords.
func (s *Server) Users() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]string, len(s.users))
	for u, p := range s.users {
		out[u] = p
	}
	return out
}

// AddUser adds a user and returns once the user can log in. Dovecot
// rereads the users file when it changes, but looks at most about once a
// second, so adding many users is faster through Options.Users.
func (s *Server) AddUser(username, password string) error {
	if err := checkCredential(username, password); err != nil {
		return err
	}
	s.mu.Lock()
	if _, ok := s.users[username]; ok {
		s.mu.Unlock()
		return fmt.Errorf("dovecot: user %q exists", username)
	}
	s.users[username] = password
	err := s.writeUsersLocked()
	s.mu.Unlock()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if canLogin(ctx, s.Addr, username, password) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("dovecot: user %q cannot log in after being added", username)
		case <-tick.C:
		}
	}
}

// canLogin reports whether LOGIN succeeds on a fresh connection.
func canLogin(ctx context.Context, addr, username, password string) bool {
	d := net.Dialer{Timeout: time.Second}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(c)
	if line, err := r.ReadString('\n'); err != nil || !strings.HasPrefix(line, "* OK") {
		return false
	}
	if _, err := fmt.Fprintf(c, "a LOGIN %s %s\r\nb LOGOUT\r\n", strconv.Quote(username), strconv.Quote(password)); err != nil {
		return false
	}
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return false
		}
		if strings.HasPrefix(line, "a ") {
			return strings.HasPrefix(line, "a OK")
		}
	}
}

func (s *Server) writeUsers() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writeUsersLocked()
}

func (s *Server) writeUsersLocked() error {
	var b strings.Builder
	for u, p := range s.users {
		fmt.Fprintf(&b, "%s:{PLAIN}%s\n", u, p)
	}
	// Write then rename, so that Dovecot never reads a half-written file.
	path := filepath.Join(s.Dir, "users")
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("dovecot: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("dovecot: %w", err)
	}
	return nil
}

// Kick disconnects every IMAP connection of a user (doveadm kick), as a
// server restart or a network failure would.
func (s *Server) Kick(username string) error {
	out, err := exec.Command(s.doveadm(), "-c", s.conf, "kick", username).CombinedOutput()
	if err != nil {
		return fmt.Errorf("dovecot: doveadm kick %s: %w: %s", username, err, bytes.TrimSpace(out))
	}
	return nil
}

func (s *Server) doveadm() string {
	p := filepath.Join(filepath.Dir(s.binary), "..", "bin", "doveadm")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	return "doveadm"
}

// LogTail returns the last n lines of the server's log.
func (s *Server) LogTail(n int) string {
	data, err := os.ReadFile(filepath.Join(s.Dir, "dovecot.log"))
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// RandomPassword returns a fresh random password.
func RandomPassword() string {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return hex.EncodeToString(b[:])
}

func checkCredential(username, password string) error {
	if username == "" || strings.ContainsAny(username, ":\n\r\t @") {
		return fmt.Errorf("dovecot: user name %q must be non-empty without ':', '@', spaces or newlines", username)
	}
	if password == "" || strings.ContainsAny(password, ":\n\r") {
		return fmt.Errorf("dovecot: the password of %q must be non-empty without ':' or newlines", username)
	}
	return nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("dovecot: finding a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// mailUser is the system user that owns the mail store, and the users the
// login and internal processes run as.
type mailUser struct {
	uid, gid            int
	loginUser, internal string
	internalGroup       string
}

// vmailMu serialises creating the vmail user within this process.
var vmailMu sync.Mutex

// mailOwner picks the users Dovecot runs as. As root (CI), mail belongs to
// "vmail", created when missing, and the login processes run as Debian's
// dovenull and dovecot users, since Dovecot refuses to run them as root. As
// another user, everything runs as that user.
func mailOwner() (*mailUser, error) {
	if os.Geteuid() != 0 {
		u, err := user.Current()
		if err != nil {
			return nil, fmt.Errorf("dovecot: %w", err)
		}
		g, err := user.LookupGroupId(u.Gid)
		if err != nil {
			return nil, fmt.Errorf("dovecot: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		return &mailUser{uid: uid, gid: gid, loginUser: u.Username, internal: u.Username, internalGroup: g.Name}, nil
	}
	vmailMu.Lock()
	defer vmailMu.Unlock()
	u, err := user.Lookup("vmail")
	if err != nil {
		out, cerr := exec.Command("useradd", "-r", "-M", "-U", "-s", "/usr/sbin/nologin", "vmail").CombinedOutput()
		if cerr != nil && !bytes.Contains(out, []byte("already exists")) {
			return nil, fmt.Errorf("dovecot: useradd vmail: %w: %s", cerr, bytes.TrimSpace(out))
		}
		if u, err = user.Lookup("vmail"); err != nil {
			return nil, fmt.Errorf("dovecot: %w", err)
		}
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &mailUser{uid: uid, gid: gid, loginUser: "dovenull", internal: "dovecot", internalGroup: "dovecot"}, nil
}

// config renders dovecot.conf: loopback only, passwd-file users, maildir
// with "." as separator, no chroot (it fails in containers), fsync off (the
// mail is disposable) and room for many connections per user.
func config(dir string, port, tlsPort int, tls bool, owner *mailUser) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("base_dir = %s/run", dir)
	w("state_dir = %s/run/state", dir)
	w("protocols = imap")
	w("listen = 127.0.0.1")
	w("log_path = %s/dovecot.log", dir)
	w("default_internal_user = %s", owner.internal)
	w("default_internal_group = %s", owner.internalGroup)
	w("default_login_user = %s", owner.loginUser)
	w("first_valid_uid = 1")
	w("first_valid_gid = 1")
	w("disable_plaintext_auth = no")
	w("auth_failure_delay = 0")
	w("auth_mechanisms = plain login")
	w("mail_location = maildir:%s/mail/%%u", dir)
	w("mail_fsync = never")
	w("mail_max_userip_connections = 200")
	if tls {
		w("ssl = yes")
		w("ssl_cert = <%s/cert.pem", dir)
		w("ssl_key = <%s/key.pem", dir)
	} else {
		w("ssl = no")
	}
	w("passdb {\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%%u %s/users\n}", dir)
	w("userdb {\n  driver = static\n  args = uid=%d gid=%d home=%s/mail/%%u\n}", owner.uid, owner.gid, dir)
	w("service imap-login {")
	w("  inet_listener imap {\n    address = 127.0.0.1\n    port = %d\n  }", port)
	if tls {
		w("  inet_listener imaps {\n    address = 127.0.0.1\n    port = %d\n    ssl = yes\n  }", tlsPort)
	} else {
		w("  inet_listener imaps {\n    port = 0\n  }")
	}
	w("  chroot =")
	w("}")
	w("service anvil {\n  chroot =\n}")
	w("service stats {\n  unix_listener stats-writer {\n    mode = 0666\n  }\n}")
	return b.String()
}
