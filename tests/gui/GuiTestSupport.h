// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// Shared by the desktop app's tests: widgets by object name, screenshots, a private store.
#pragma once

#include "vivarium/core/AgentDefinition.h"
#include "vivarium/core/Settings.h"
#include "vivarium/core/Store.h"

#include <QAbstractItemView>
#include <QApplication>
#include <QDir>
#include <QTest>
#include <QWidget>

namespace guitest {

/** The descendant of `root` with this object name and type; fails the test if absent. */
template <typename T> T* child(QObject* root, const QString& name)
{
    T* w = root->findChild<T*>(name);
    if (!w)
        qWarning().noquote() << "no" << T::staticMetaObject.className() << "named" << name;
    return w;
}

/**
 * Render a widget to $VIVARIUM_SCREENSHOT_DIR/<name>.png (nothing if unset). The widget's
 * pending layout and paint events are processed first so the picture is what a user sees.
 */
inline bool screenshot(QWidget* w, const QString& name)
{
    const QString dir = qEnvironmentVariable("VIVARIUM_SCREENSHOT_DIR");
    if (dir.isEmpty())
        return true;
    QDir().mkpath(dir);
    QApplication::processEvents();
    return w->grab().save(dir + QLatin1Char('/') + name + QStringLiteral(".png"));
}

inline vivarium::AgentDefinition agent(const QString& id,
                                       const QString& endpoint = QStringLiteral("local"))
{
    vivarium::AgentDefinition d;
    d.id = id;
    d.name = QStringLiteral("Agent %1").arg(id);
    d.description = QStringLiteral("Does %1 things.").arg(id);
    d.prompt = QStringLiteral("Do things.");
    d.model.endpoint = endpoint;
    d.model.name = QStringLiteral("llama3.1");
    return d;
}

/** Click the centre of an item view's cell. */
inline void clickCell(QAbstractItemView* view, const QModelIndex& index,
                      Qt::MouseButton button = Qt::LeftButton)
{
    view->scrollTo(index);
    QTest::mouseClick(view->viewport(), button, {}, view->visualRect(index).center());
}

} // namespace guitest
