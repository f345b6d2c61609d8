// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// Writes COUNT secrets named PREFIX-<i> (value "value-PREFIX-<i>") into a key-file vault, one
// write() each, as fast as it can: several of these at once check that concurrent writers
// lose nothing. Usage: vault_writer <vault> <key-file> <prefix> <count>
#include "vivarium/core/SecretStore.h"

#include <QCoreApplication>

#include <cstdio>

int main(int argc, char** argv)
{
    QCoreApplication app(argc, argv);
    if (argc != 5) {
        std::fprintf(stderr, "usage: vault_writer <vault> <key-file> <prefix> <count>\n");
        return 2;
    }
    const QString prefix = QString::fromLocal8Bit(argv[3]);
    auto v = vivarium::FileVault::open(QString::fromLocal8Bit(argv[1]),
                                       QString::fromLocal8Bit(argv[2]), false);
    if (!v) {
        std::fprintf(stderr, "vault_writer: %s\n", qPrintable(v.error().message));
        return 1;
    }
    const int count = QByteArray(argv[4]).toInt();
    for (int i = 0; i < count; ++i) {
        const QString key = QStringLiteral("%1-%2").arg(prefix).arg(i);
        if (auto s = (*v)->write(key, QByteArrayLiteral("value-") + key.toUtf8()); !s) {
            std::fprintf(stderr, "vault_writer: %s\n", qPrintable(s.error().message));
            return 1;
        }
    }
    return 0;
}
