// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "ProviderCaller.h"

#include "BrokerLogging.h"

#include "vivarium/protocol/BrokerProtocol.h"
#include "vivarium/sandbox/LlmClient.h"

#include "vivarium/core/CurlEasy.h"

#include <QElapsedTimer>

#include <cstring>
#include <memory>
#include <sys/socket.h>

namespace vivarium {

namespace {

/** Response headers kept, in bytes: enough for any real API, not a memory sink. */
constexpr qsizetype MaxResponseHeaderBytes = 64 * 1024;

ProviderCallError failure(const char* kind, const QString& rule, const QString& message)
{
    return ProviderCallError{QLatin1String(kind), rule, message};
}

struct Transfer
{
    const CancelToken* cancel = nullptr;
    const QList<QHostAddress>* allowed = nullptr;
    ProviderCallOutcome* outcome = nullptr;
    qint64 maxBody = 0;
    qsizetype headerBytes = 0;
    bool headersCut = false;
    std::optional<QHostAddress> blocked; ///< an address curl tried that was not checked
};

size_t onHeader(char* data, size_t size, size_t count, void* user)
{
    auto* t = static_cast<Transfer*>(user);
    const size_t n = size * count;
    QByteArrayView line(data, qsizetype(n));
    while (!line.isEmpty() && (line.back() == '\n' || line.back() == '\r'))
        line.chop(1);
    if (line.startsWith("HTTP/")) {
        // A new status line (after 100 Continue): its headers start over.
        t->outcome->headers.clear();
        t->headerBytes = 0;
        return n;
    }
    const qsizetype colon = line.indexOf(':');
    if (colon <= 0)
        return n;
    t->headerBytes += line.size();
    if (t->headerBytes > MaxResponseHeaderBytes) {
        t->headersCut = true;
        return n;
    }
    try {
        t->outcome->headers.append({line.first(colon).trimmed().toByteArray().toLower(),
                                    line.sliced(colon + 1).trimmed().toByteArray()});
    } catch (...) {
        return 0; // nothing may unwind through libcurl
    }
    return n;
}

size_t onBody(char* data, size_t size, size_t count, void* user)
{
    auto* t = static_cast<Transfer*>(user);
    const size_t n = size * count;
    t->outcome->bytes += qint64(n);
    const qint64 room = t->maxBody - t->outcome->body.size();
    try {
        t->outcome->body.append(data, qsizetype(qMin<qint64>(room, qint64(n))));
    } catch (...) {
        return 0;
    }
    if (qint64(n) > room) {
        t->outcome->truncated = true;
        return 0; // stop reading: the rest is not wanted (CURLE_WRITE_ERROR, expected)
    }
    return n;
}

int onProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t)
{
    auto* t = static_cast<Transfer*>(user);
    return t->cancel->isCancelled() ? 1 : 0;
}

/**
 * The last line of defence for the pin: curl may only open a socket to an address that was
 * checked, whatever its resolver or a future option might otherwise do. Sockets are
 * close-on-exec so a runner spawned meanwhile cannot inherit one.
 */
curl_socket_t onOpenSocket(void* user, curlsocktype purpose, curl_sockaddr* address)
{
    auto* t = static_cast<Transfer*>(user);
    if (purpose != CURLSOCKTYPE_IPCXN)
        return CURL_SOCKET_BAD;
    QHostAddress target(&address->addr);
    bool mapped = false;
    const quint32 v4 = target.toIPv4Address(&mapped);
    if (mapped && target.protocol() == QAbstractSocket::IPv6Protocol)
        target = QHostAddress(v4);
    bool ok = false;
    for (const QHostAddress& a : *t->allowed)
        ok = ok || a.isEqual(target, QHostAddress::StrictConversion);
    if (!ok) {
        t->blocked = target;
        return CURL_SOCKET_BAD;
    }
    t->outcome->address = target.toString();
    return ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

ProviderCallError transportError(CURLcode code, CURL* easy, const QString& detail,
                                 const NormalizedUrl& url, int totalTimeoutMs)
{
    const QString where = url.endpoint();
    switch (code) {
    case CURLE_OPERATION_TIMEDOUT: {
        curl_off_t connectUs = 0;
        curl_easy_getinfo(easy, CURLINFO_CONNECT_TIME_T, &connectUs);
        return failure(protocol::ErrorKind::Timeout, QStringLiteral("limit.time"),
                       connectUs > 0
                           ? QStringLiteral("%1 sent no complete response within %2 s")
                                 .arg(where)
                                 .arg(totalTimeoutMs / 1000.0)
                           : QStringLiteral("could not connect to %1 in time").arg(where));
    }
    case CURLE_COULDNT_CONNECT:
        return failure(protocol::ErrorKind::Connection, QStringLiteral("transport"),
                       QStringLiteral("could not connect to %1: %2").arg(where, detail));
    case CURLE_COULDNT_RESOLVE_HOST:
        return failure(protocol::ErrorKind::Dns, QStringLiteral("dns.failed"),
                       QStringLiteral("%1 did not resolve").arg(url.host));
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
        return failure(protocol::ErrorKind::Connection, QStringLiteral("tls"),
                       QStringLiteral("TLS with %1 failed (certificates are always verified): %2")
                           .arg(where, detail));
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_UNSUPPORTED_PROTOCOL:
        return failure(protocol::ErrorKind::Http, QStringLiteral("transport"),
                       QStringLiteral("%1 did not answer with usable HTTP: %2").arg(where, detail));
    default:
        return failure(protocol::ErrorKind::Connection, QStringLiteral("transport"),
                       QStringLiteral("the exchange with %1 failed: %2").arg(where, detail));
    }
}

} // namespace

std::expected<QList<QHostAddress>, ProviderCallError>
ProviderCaller::resolveChecked(const NormalizedUrl& url, const HostResolver& resolver,
                               bool explicitlyLocal)
{
    QList<QHostAddress> addresses;
    if (url.hostIsIp) {
        addresses.append(url.ip);
    } else {
        auto resolved = resolver.resolve(url.host);
        if (!resolved)
            return std::unexpected(failure(
                protocol::ErrorKind::Dns, QStringLiteral("dns.failed"),
                QStringLiteral("%1 did not resolve: %2").arg(url.host, resolved.error().message)));
        if (resolved->isEmpty())
            return std::unexpected(failure(protocol::ErrorKind::Dns, QStringLiteral("dns.failed"),
                                           QStringLiteral("%1 has no address").arg(url.host)));
        for (QHostAddress a : std::as_const(*resolved)) {
            bool mapped = false;
            const quint32 v4 = a.toIPv4Address(&mapped);
            if (mapped && a.protocol() == QAbstractSocket::IPv6Protocol)
                a = QHostAddress(v4);
            a.setScopeId({});
            if (!addresses.contains(a))
                addresses.append(a);
        }
    }
    // Every address must pass, not just one: a name that answers with a public and a private
    // address is a rebinding attempt, and curl may pick either.
    for (const QHostAddress& a : std::as_const(addresses)) {
        const AddressVerdict v = ProviderCallPolicy::classify(a);
        if (ProviderCallPolicy::addressAllowed(v.cls, explicitlyLocal))
            continue;
        const QString cls = ProviderCallPolicy::className(v.cls);
        const QString subject =
            url.hostIsIp ? QStringLiteral("%1 is").arg(a.toString())
                         : QStringLiteral("%1 resolves to %2,").arg(url.host, a.toString());
        const bool couldBeLocal = v.cls == AddressClass::Loopback ||
                                  v.cls == AddressClass::Private ||
                                  v.cls == AddressClass::SharedCgnat;
        return std::unexpected(failure(
            protocol::ErrorKind::Policy,
            QStringLiteral("address.") + cls.section(QLatin1Char(' '), 0, 0),
            QStringLiteral("%1 a %2 address (%3); %4")
                .arg(subject, cls, v.range,
                     couldBeLocal ? QStringLiteral("only endpoints configured as explicitly local "
                                                   "may be reached there")
                                  : QStringLiteral("it is never reachable through the broker"))));
    }
    return addresses;
}

std::expected<QString, ProviderCallError>
ProviderCaller::attachCredential(ProviderCallJob& job, std::optional<ProviderCredential> credential,
                                 const QString& connection)
{
    if (!credential)
        return QStringLiteral("none");
    auto wipe = [&credential] {
        credential->secret.fill('\0');
        for (QByteArray& r : credential->alsoRedact)
            r.fill('\0');
    };
    job.scrubber.addSecret(credential->secret);
    for (const QByteArray& r : std::as_const(credential->alsoRedact))
        job.scrubber.addSecret(r);
    const CheckedCall& call = job.call;
    if (credential->boundHost.isEmpty()) {
        wipe();
        return QStringLiteral("unbound");
    }
    if (credential->boundHost != call.url.host) {
        wipe();
        return QStringLiteral("not_bound_host");
    }
    auto smuggles = [](const QByteArray& b) {
        return b.contains('\r') || b.contains('\n') || b.contains('\0');
    };
    const QString name = connection.isEmpty() ? QStringLiteral("(default)") : connection;
    const bool inQuery = !credential->queryName.isEmpty();
    if (inQuery) {
        // The key goes in the query: the runner may not set that parameter itself, or the
        // upstream could read its value instead of (or beside) the key.
        const QByteArray wanted = credential->queryName;
        for (const QString& pair : call.url.encodedQuery.split(QLatin1Char('&'))) {
            const QByteArray key =
                QByteArray::fromPercentEncoding(pair.section(QLatin1Char('='), 0, 0).toLatin1());
            if (call.url.hasQuery && key == wanted) {
                wipe();
                return std::unexpected(ProviderCallError{
                    QLatin1String(protocol::ErrorKind::Policy),
                    QStringLiteral("request.credential_query"),
                    QStringLiteral("query parameter \"%1\" may not be set: the broker puts the "
                                   "connection's key there")
                        .arg(QString::fromLatin1(wanted))});
            }
        }
    } else {
        const QByteArray header = credential->headerName.toLower();
        const bool headerOk = !header.isEmpty() && header != "host" && header != "content-length" &&
                              header != "transfer-encoding" && !smuggles(credential->headerName) &&
                              !header.contains(':') && !header.contains(' ');
        if (!headerOk || smuggles(credential->prefix) || smuggles(credential->secret)) {
            wipe();
            return std::unexpected(ProviderCallError{
                QLatin1String(protocol::ErrorKind::Config), QStringLiteral("credential.malformed"),
                QStringLiteral("the credential of connection \"%1\" cannot go in an HTTP header "
                               "(bad header name, or CR/LF/NUL in the value)")
                    .arg(name)});
        }
        for (const auto& [h, value] : call.headers) {
            Q_UNUSED(value);
            if (h.toLower() == header) {
                wipe();
                return std::unexpected(ProviderCallError{
                    QLatin1String(protocol::ErrorKind::Policy),
                    QStringLiteral("request.credential_header"),
                    QStringLiteral("header \"%1\" may not be set: the broker puts the "
                                   "connection's credential there")
                        .arg(QString::fromLatin1(h))});
            }
        }
    }
    if (call.url.scheme != QLatin1String("https") && !job.explicitlyLocal) {
        wipe();
        return std::unexpected(ProviderCallError{
            QLatin1String(protocol::ErrorKind::Policy), QStringLiteral("credential.cleartext"),
            QStringLiteral("the credential of connection \"%1\" is only sent over https (or to "
                           "an explicitly local endpoint)")
                .arg(name)});
    }
    for (QByteArray& r : credential->alsoRedact)
        r.fill('\0');
    credential->alsoRedact.clear();
    job.credential = std::move(credential);
    return QStringLiteral("injected");
}

QByteArray ProviderCaller::pinEntry(const NormalizedUrl& url, const QList<QHostAddress>& addresses)
{
    QByteArray entry = url.host.toLatin1() + ':' + QByteArray::number(url.port) + ':';
    for (qsizetype i = 0; i < addresses.size(); ++i) {
        const QHostAddress& a = addresses.at(i);
        if (i > 0)
            entry += ',';
        if (a.protocol() == QAbstractSocket::IPv6Protocol)
            entry += '[' + a.toString().toLatin1() + ']';
        else
            entry += a.toString().toLatin1();
    }
    return entry;
}

ProviderCallOutcome ProviderCaller::execute(ProviderCallJob& job, const CancelToken& cancel)
{
    QElapsedTimer clock;
    clock.start();
    ProviderCallOutcome out;
    const CheckedCall& call = job.call;
    auto finish = [&](ProviderCallOutcome& o) -> ProviderCallOutcome {
        o.durationMs = clock.elapsed();
        if (job.credential)
            job.credential->secret.fill('\0');
        return std::move(o);
    };

    // c) resolve, refuse what is not public (unless explicitly local).
    const SystemResolver systemResolver;
    const HostResolver& resolver = job.resolver ? *job.resolver : systemResolver;
    auto addresses = resolveChecked(call.url, resolver, job.explicitlyLocal);
    if (!addresses) {
        out.error = addresses.error();
        return finish(out);
    }
    out.address = addresses->first().toString();
    if (cancel.isCancelled()) {
        out.error = failure(protocol::ErrorKind::Cancelled, QStringLiteral("cancelled"),
                            QStringLiteral("the run is ending"));
        return finish(out);
    }

    curl::globalInit();
    curl::EasyPtr easy(curl_easy_init());
    curl::MultiPtr multi(curl_multi_init());
    if (!easy || !multi) {
        out.error = failure(protocol::ErrorKind::Connection, QStringLiteral("transport"),
                            QStringLiteral("libcurl could not be initialised"));
        return finish(out);
    }

    // e) the headers: the runner's (validated), then the credential, which only the broker adds.
    curl_slist* raw = nullptr;
    bool hasContentType = false;
    bool hasUserAgent = false;
    for (const auto& [name, value] : call.headers) {
        const QByteArray lower = name.toLower();
        hasContentType = hasContentType || lower == "content-type";
        hasUserAgent = hasUserAgent || lower == "user-agent";
        // "Name;" is curl's way to send a header with an empty value.
        const QByteArray line =
            value.isEmpty() ? QByteArray(name + ';') : QByteArray(name + ": " + value);
        raw = curl_slist_append(raw, line.constData());
    }
    if (job.credential && job.credential->queryName.isEmpty()) {
        QByteArray line =
            job.credential->headerName + ": " + job.credential->prefix + job.credential->secret;
        raw = curl_slist_append(raw, line.constData());
        line.fill('\0');
    }
    raw = curl_slist_append(raw, "Expect:");
    if (!hasContentType && !call.body.isEmpty())
        raw = curl_slist_append(raw, "Content-Type:"); // not curl's form-urlencoded default
    curl::SlistPtr headerList(raw);

    Transfer t;
    t.cancel = &cancel;
    t.allowed = &*addresses;
    t.outcome = &out;
    t.maxBody = job.maxResponseBytes;

    // d) pin what was checked, verify TLS, follow nothing, speak only http(s), no proxy.
    // An API key "in query" is appended here, after every check and never recorded: the
    // audit row has no query, and the URL is wiped when the call is over.
    QByteArray url = call.url.toCurlUrl();
    if (job.credential && !job.credential->queryName.isEmpty())
        url += (call.url.hasQuery ? '&' : '?') + job.credential->queryName.toPercentEncoding() +
               '=' + job.credential->secret.toPercentEncoding();
    struct Wipe
    {
        QByteArray& bytes;
        ~Wipe() { bytes.fill('\0'); }
    } wipeUrl{url};
    const QByteArray pin = pinEntry(call.url, *addresses);
    curl::SlistPtr resolveList(curl_slist_append(nullptr, pin.constData()));
    char errorBuffer[CURL_ERROR_SIZE] = {};
    CURL* e = easy.get();
    curl::applyBaseline(e, {url.constData(), errorBuffer, job.connectTimeoutMs, job.totalTimeoutMs,
                            &onHeader, &onBody, &onProgress, &t});
    if (!call.url.hostIsIp)
        curl_easy_setopt(e, CURLOPT_RESOLVE, resolveList.get());
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, &onOpenSocket);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, &t);
    // Stricter than the baseline: no proxy at all, so the pinned address is what is dialled.
    curl_easy_setopt(e, CURLOPT_PROXY, "");
    curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
    // Decoded here so the redaction sees plain bytes; an encoding curl cannot decode fails.
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, headerList.get());
    if (!hasUserAgent)
        curl_easy_setopt(e, CURLOPT_USERAGENT, "vivarium/" VIVARIUM_VERSION);
    // f) limits: set with the baseline above.

    const QByteArray method = call.method.toLatin1();
    if (method == "GET" && call.body.isEmpty()) {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else if (method == "HEAD") {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else {
        if (!call.body.isEmpty() || method == "POST" || method == "PUT" || method == "PATCH") {
            curl_easy_setopt(e, CURLOPT_POSTFIELDS, call.body.constData());
            curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(call.body.size()));
        }
        if (method != "POST")
            curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method.constData());
    }

    curl_multi_add_handle(multi.get(), e);
    bool cancelled = false;
    int running = 1;
    while (running) {
        if (curl_multi_perform(multi.get(), &running) != CURLM_OK)
            break;
        if (!running)
            break;
        if (cancel.isCancelled()) {
            cancelled = true;
            break;
        }
        curl_multi_poll(multi.get(), nullptr, 0, 50, nullptr);
    }
    CURLcode code = CURLE_OK;
    int pending = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi.get(), &pending)) {
        if (msg->msg == CURLMSG_DONE && msg->easy_handle == e)
            code = msg->data.result;
    }
    long requestSize = 0;
    curl_easy_getinfo(e, CURLINFO_REQUEST_SIZE, &requestSize);
    out.sent = requestSize > 0;
    long status = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    curl_multi_remove_handle(multi.get(), e);

    if (cancelled || cancel.isCancelled() || code == CURLE_ABORTED_BY_CALLBACK) {
        out.error = failure(protocol::ErrorKind::Cancelled, QStringLiteral("cancelled"),
                            QStringLiteral("the run is ending"));
    } else if (t.blocked) {
        out.error = failure(protocol::ErrorKind::Policy, QStringLiteral("address.unpinned"),
                            QStringLiteral("the connection went to %1, which was not checked; "
                                           "it was stopped")
                                .arg(t.blocked->toString()));
    } else if (code != CURLE_OK && !(code == CURLE_WRITE_ERROR && out.truncated)) {
        const QString detail =
            QString::fromUtf8(errorBuffer[0] ? errorBuffer : curl_easy_strerror(code));
        out.error = transportError(code, e, detail, call.url, job.totalTimeoutMs);
    }
    if (out.error)
        out.error->message = job.scrubber.scrub(out.error->message);
    if (out.error) {
        // Nothing of a broken exchange goes back: it could be half a secret.
        out.headers.clear();
        out.body.clear();
        out.truncated = false;
        return finish(out);
    }

    out.status = int(status);
    if (t.headersCut)
        out.headers.append({QByteArrayLiteral("x-vivarium-note"),
                            QByteArrayLiteral("response headers beyond 64 KiB were dropped")});
    // f) redaction, body and headers.
    for (auto& [name, value] : out.headers) {
        name = job.scrubber.scrub(name);
        value = job.scrubber.scrub(value);
    }
    out.body = job.scrubber.scrub(out.body, out.truncated);
    qCDebug(lcBroker).noquote() << call.method << call.url.auditUrl() << "->" << out.status
                                << out.bytes << "bytes";
    return finish(out);
}

} // namespace vivarium
