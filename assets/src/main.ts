// Entry of the agent workspace (index.html).
import { createApp } from 'vue'
import 'element-plus/dist/index.css'
import './styles/base.css'
import App from './App.vue'
import { applyDocumentLocale, i18n } from './i18n'
import { router } from './router'

applyDocumentLocale()
createApp(App).use(i18n).use(router).mount('#app')
