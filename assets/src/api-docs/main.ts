// Entry of the API reference page (api-docs.html).
import { createApp } from 'vue'
import 'element-plus/dist/index.css'
import '../styles/base.css'
import ApiDocsApp from './ApiDocsApp.vue'
import { applyDocumentLocale, i18n } from '../i18n'

applyDocumentLocale()
createApp(ApiDocsApp).use(i18n).mount('#app')
