/* Live reloads without SIGHUP: one thread that checks the policy file and
 * the certificate/key files every server.reloadInterval (read from the
 * policy in force, so a reload can change it; 0 turns checking off).
 *
 * Why polling stat and not inotify: Kubernetes updates ConfigMap and Secret
 * volumes by swapping a `..data` symlink, so the file a watch was placed on
 * never changes; inotify would need directory watches, re-arming after each
 * swap and separate handling for plain files edited in place or replaced by
 * editors. stat() following symlinks sees every one of those cases as a new
 * inode, size or mtime, for three syscalls every two seconds, and the
 * content hash behind it (app_reload_policy, tls_creds_reload) keeps a
 * touched but unchanged file from reloading anything. */
#ifndef TAGPIN_WATCH_H
#define TAGPIN_WATCH_H

#include "app.h"
#include "server.h"

typedef struct watch watch_t;

/* Starts the thread; app and server are borrowed and must outlive it.
 * NULL when the thread cannot start (SIGHUP still reloads). */
watch_t *watch_start(app_t *app, server_t *server);

/* Stops and joins the thread. NULL is fine. */
void watch_stop(watch_t *w);

#endif
