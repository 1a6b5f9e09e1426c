/**
 * Routes of the workspace entry (history mode; the server answers index.html for every non-API
 * path). Sign-in and first-run setup are public; everything else needs a session, and the guard
 * ({@link decideNavigation}) keeps a restricted session on its forced page and hides pages the
 * user has no permission for.
 */
import {
  createRouter,
  createWebHistory,
  type RouteLocationNormalized,
  type RouteRecordRaw,
} from 'vue-router'
import { defineComponent } from 'vue'
import { currentUser, guardSession, onSessionEnded, refreshSession } from './session'
import {
  CHANGE_PASSWORD_ROUTE,
  ENROL_TOTP_ROUTE,
  HOME_ROUTE,
  LOGIN_ROUTE,
  REASON_EXPIRED,
  SETTINGS_ROUTE,
  decideNavigation,
} from './guard'
import LoginView from './views/LoginView.vue'
import WorkspaceLayout from './views/WorkspaceLayout.vue'
import EmptyArea from './views/EmptyArea.vue'
import {
  SETTINGS_PAGES,
  SETTINGS_PERMISSIONS,
  WORKSPACE_AREAS,
  type WorkspaceAreaName,
} from './workspace-areas'

declare module 'vue-router' {
  interface RouteMeta {
    /** Entering this route needs a signed-in session. */
    requiresSession?: boolean
    /** i18n key of the page title. */
    titleKey?: string
    /** Entering needs any one of these permissions. */
    permissions?: readonly string[]
  }
}

/** Placeholder of routes the guard always redirects away from. */
const Redirecting = defineComponent({ name: 'RedirectingRoute', render: () => null })

const settingsViews: Record<(typeof SETTINGS_PAGES)[number]['name'], () => Promise<unknown>> = {
  'settings-users': () => import('./views/admin/UsersView.vue'),
  'settings-roles': () => import('./views/admin/RolesView.vue'),
  'settings-teams': () => import('./views/admin/TeamsView.vue'),
  'settings-inboxes': () => import('./views/settings2/InboxesView.vue'),
  'settings-agents': () => import('./views/settings2/AgentsView.vue'),
  'settings-deliveries': () => import('./views/settings2/DeliveriesView.vue'),
  'settings-webhooks': () => import('./views/settings2/WebhooksView.vue'),
  'settings-canned': () => import('./views/settings2/CannedRepliesView.vue'),
  'settings-audit': () => import('./views/admin/AuditView.vue'),
}

/** Areas with a view of their own; the others show {@link EmptyArea} until they exist. */
const areaViews: Partial<Record<WorkspaceAreaName, () => Promise<unknown>>> = {
  conversations: () => import('./views/conversations/ConversationsView.vue'),
  contacts: () => import('./views/contacts/ContactsView.vue'),
  supervisor: () => import('./views/supervisor/SupervisorView.vue'),
}

const routes: RouteRecordRaw[] = [
  {
    path: '/login',
    name: LOGIN_ROUTE,
    component: LoginView,
    meta: { titleKey: 'login.pageTitle' },
  },
  {
    path: '/setup',
    name: 'setup',
    component: () => import('./views/SetupView.vue'),
    meta: { titleKey: 'setup.pageTitle' },
  },
  {
    path: '/change-password',
    name: CHANGE_PASSWORD_ROUTE,
    component: () => import('./views/ForcedPasswordView.vue'),
    meta: { requiresSession: true, titleKey: 'forced.passwordTitle' },
  },
  {
    path: '/enrol-2fa',
    name: ENROL_TOTP_ROUTE,
    component: () => import('./views/ForcedTotpView.vue'),
    meta: { requiresSession: true, titleKey: 'forced.totpTitle' },
  },
  {
    path: '/',
    component: WorkspaceLayout,
    meta: { requiresSession: true },
    children: [
      { path: '', name: HOME_ROUTE, component: Redirecting },
      ...WORKSPACE_AREAS.map((area): RouteRecordRaw => {
        const meta = { requiresSession: true, titleKey: area.titleKey, permissions: area.permissions }
        const view = areaViews[area.name]
        return view === undefined
          ? { path: area.path, name: area.name, component: EmptyArea, props: { area: area.name }, meta }
          : { path: area.path, name: area.name, component: view, meta }
      }),
      {
        path: 'profile',
        name: 'profile',
        component: () => import('./views/ProfileView.vue'),
        meta: { requiresSession: true, titleKey: 'profile.pageTitle' },
      },
      {
        path: 'settings',
        meta: { requiresSession: true, titleKey: 'nav.settings', permissions: SETTINGS_PERMISSIONS },
        children: [
          { path: '', name: SETTINGS_ROUTE, component: Redirecting },
          ...SETTINGS_PAGES.map(
            (page): RouteRecordRaw => ({
              path: page.path,
              name: page.name,
              component: settingsViews[page.name],
              meta: { requiresSession: true, titleKey: page.titleKey, permissions: page.permissions },
            }),
          ),
        ],
      },
    ],
  },
  { path: '/:unknown(.*)*', redirect: '/' },
]

export const router = createRouter({
  history: createWebHistory(import.meta.env.BASE_URL),
  routes,
})

function routeName(to: RouteLocationNormalized): string | undefined {
  return typeof to.name === 'string' ? to.name : undefined
}

router.beforeEach(async (to) => {
  const requiresSession = to.matched.some((record) => record.meta.requiresSession === true)
  let expired = false
  if (requiresSession && currentUser.value === null) {
    expired = (await refreshSession()) === 'expired'
  }
  const decision = decideNavigation(guardSession(), {
    name: routeName(to),
    fullPath: to.fullPath,
    requiresSession,
    permissions: to.meta.permissions,
  })
  if (decision.kind === 'allow') return true
  const query: Record<string, string> = {}
  if (decision.redirect !== undefined) query.redirect = decision.redirect
  if (decision.name === LOGIN_ROUTE && expired) query.reason = REASON_EXPIRED
  return { name: decision.name, query, replace: true }
})

// A call answered "your session is over" (idle timeout, revoked, forced logout): go to sign-in,
// saying why, and come back to the same page afterwards.
onSessionEnded(() => {
  const current = router.currentRoute.value
  const name = routeName(current)
  if (name === LOGIN_ROUTE || name === 'setup') return
  const back =
    name === CHANGE_PASSWORD_ROUTE || name === ENROL_TOTP_ROUTE || current.fullPath === '/'
      ? undefined
      : current.fullPath
  const query: Record<string, string> = { reason: REASON_EXPIRED }
  if (back !== undefined) query.redirect = back
  void router.replace({ name: LOGIN_ROUTE, query })
})
