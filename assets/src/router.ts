/**
 * Routes of the workspace entry (history mode; the server answers index.html for every non-API
 * path). The workspace frame and its areas need a session; everything else is public.
 */
import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import { currentUser, refreshSession } from './session'
import LoginView from './views/LoginView.vue'
import WorkspaceLayout from './views/WorkspaceLayout.vue'
import EmptyArea from './views/EmptyArea.vue'
import { WORKSPACE_AREAS } from './workspace-areas'

declare module 'vue-router' {
  interface RouteMeta {
    /** Entering this route needs a signed-in session. */
    requiresSession?: boolean
    /** i18n key of the page title. */
    titleKey?: string
  }
}

const routes: RouteRecordRaw[] = [
  {
    path: '/login',
    name: 'login',
    component: LoginView,
    meta: { titleKey: 'login.pageTitle' },
  },
  {
    path: '/',
    component: WorkspaceLayout,
    meta: { requiresSession: true },
    children: [
      { path: '', redirect: { name: 'conversations' } },
      ...WORKSPACE_AREAS.map(
        (area): RouteRecordRaw => ({
          path: area.path,
          name: area.name,
          component: EmptyArea,
          props: { area: area.name },
          meta: { requiresSession: true, titleKey: area.titleKey },
        }),
      ),
    ],
  },
  { path: '/:unknown(.*)*', redirect: '/' },
]

export const router = createRouter({
  history: createWebHistory(import.meta.env.BASE_URL),
  routes,
})

router.beforeEach(async (to) => {
  if (!to.matched.some((record) => record.meta.requiresSession === true)) return true
  if (currentUser.value !== null) return true
  if (await refreshSession()) return true
  const redirect = to.fullPath === '/' ? undefined : to.fullPath
  return { name: 'login', query: redirect === undefined ? {} : { redirect } }
})
