// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// Helper for tst_storecrash: writes runs forever, each run with its K events and final status
// in one transaction, until it is killed. Usage: store_crash_writer <db-path> [K]
#include "vivarium/core/Store.h"

#include <QCoreApplication>
#include <QJsonObject>

#include <cstdio>

using namespace vivarium;

namespace {

int failWith(const char* what, const Error& e)
{
    std::fprintf(stderr, "store_crash_writer: %s: %s\n", what, qPrintable(e.toString()));
    return 1;
}

} // namespace

int main(int argc, char** argv)
{
    QCoreApplication app(argc, argv);
    const QStringList args = app.arguments();
    if (args.size() < 2) {
        std::fprintf(stderr, "usage: store_crash_writer <db-path> [events-per-run]\n");
        return 2;
    }
    const int k = args.size() > 2 ? args.at(2).toInt() : 50;

    auto store = Store::open(args.at(1));
    if (!store)
        return failWith("open", store.error());

    AgentDefinition def;
    def.id = QStringLiteral("crash");
    def.name = QStringLiteral("Crash test");
    def.prompt = QStringLiteral("Write until killed.");
    def.model.endpoint = QStringLiteral("local");
    def.model.name = QStringLiteral("none");
    def.outputSchema = QJsonValue(QJsonValue::Undefined); // default-constructed means null
    if (auto saved = (*store)->saveAgent(def); !saved)
        return failWith("save agent", saved.error());

    for (qint64 n = 1;; ++n) {
        Status s = (*store)->transaction([&]() -> Status {
            NewRun newRun;
            newRun.agentId = def.id;
            newRun.trigger = QStringLiteral("crash-test");
            newRun.input = QJsonObject{{QStringLiteral("n"), n}};
            auto run = (*store)->createRun(newRun);
            if (!run)
                return std::unexpected(run.error());
            QList<RunEvent> events;
            events.reserve(k);
            for (int i = 1; i <= k; ++i) {
                events.append(
                    RunEvent{0,
                             QStringLiteral("log"),
                             {},
                             QJsonObject{{QStringLiteral("n"), n}, {QStringLiteral("i"), i}}});
            }
            if (auto a = (*store)->appendEvents(run->id, events); !a)
                return a;
            return (*store)->setRunStatus(run->id, RunStatus::Succeeded, QStringLiteral("done"));
        });
        if (!s) {
            // The test may be reading at the same time; a busy database is not a failure.
            if (s.error().code == Error::Code::Locked)
                continue;
            return failWith("write run", s.error());
        }
        std::printf("committed %lld\n", static_cast<long long>(n));
        std::fflush(stdout);
    }
}
