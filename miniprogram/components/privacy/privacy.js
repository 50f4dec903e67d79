// components/privacy — the privacy dialog (隐私保护指引) of utils/privacy.js, put on every page
// that uses a privacy component: <privacy-dialog id="privacy" /> (pages/login: chooseAvatar and
// the nickname input; pages/ucenter: getPhoneNumber; pages/account: 同意 from 隐私与账号).
//
// It opens in two ways:
//   - open(purpose), from utils/privacy.js when WeChat's onNeedPrivacyAuthorization fires (the
//     user tapped 绑定手机号 or 头像 before agreeing): the tapped component waits for the answer;
//   - showIfNeeded(purpose), from a page: wx.getPrivacySetting says whether the user still has to
//     agree, and only then is it shown (the profile step asks before the nickname input, which
//     WeChat turns into a plain text input while the guide is not agreed to).
// 同意 is <button id="agree-btn" open-type="agreePrivacyAuthorization">: its tap records the
// agreement with WeChat, then the waiting call goes on. 不同意 closes it: the waiting call fails,
// the user stays logged in and is told what they do without (no phone number, no avatar).
// The guide's name comes from wx.getPrivacySetting; 《...》 opens it (wx.openPrivacyContract).
// Events for the page: bind:agree and bind:disagree ({purpose}).

const util = require('../../utils/util.js');
const privacy = require('../../utils/privacy.js');

const PURPOSE_TEXT = {
  phone: '绑定手机号需要你同意隐私保护指引：手机号仅用于会议通知与身份核对。',
  avatar: '设置头像和昵称需要你同意隐私保护指引：头像和昵称仅在本组织内显示。',
  other: '使用该功能需要你同意隐私保护指引。',
};

const DECLINED_TEXT = {
  phone: '未同意隐私保护指引，手机号未绑定',
  avatar: '未同意隐私保护指引，头像未设置',
  other: '未同意隐私保护指引，该功能不可用',
};

Component({
  data: {
    show: false,
    purpose: 'other',
    purposeText: PURPOSE_TEXT.other,
    contractName: '《用户隐私保护指引》',
  },

  lifetimes: {
    attached() {
      privacy.attach(this);
    },
    detached() {
      // A page closed with the dialog open: the call it held fails, as a 不同意 would.
      if (this.data.show) privacy.disagree();
      privacy.detach(this);
    },
  },

  methods: {
    /** Shows the dialog for `purpose` ('phone', 'avatar', 'other'); resolves when its texts are set. */
    open(purpose) {
      const p = PURPOSE_TEXT[purpose] ? purpose : 'other';
      this.setData({ show: true, purpose: p, purposeText: PURPOSE_TEXT[p] });
      return privacy.getSetting().then((setting) => this.setData({ contractName: setting.privacyContractName }));
    },

    /** Shows the dialog when wx.getPrivacySetting says the user has not agreed yet; resolves whether it did. */
    showIfNeeded(purpose) {
      return privacy.getSetting().then((setting) => {
        if (!setting.needAuthorization) return false;
        const p = PURPOSE_TEXT[purpose] ? purpose : 'other';
        this.setData({ show: true, purpose: p, purposeText: PURPOSE_TEXT[p], contractName: setting.privacyContractName });
        return true;
      });
    },

    /** bindagreeprivacyauthorization of the 同意 button: WeChat has recorded the agreement. */
    onAgree() {
      this.setData({ show: false });
      privacy.agree(privacy.AGREE_BUTTON_ID);
      this.triggerEvent('agree', { purpose: this.data.purpose });
    },

    /** 不同意: the waiting call fails; the user keeps using the app without it. */
    onDisagree() {
      const purpose = this.data.purpose;
      this.setData({ show: false });
      privacy.disagree();
      util.showErrorToast(DECLINED_TEXT[purpose] || DECLINED_TEXT.other);
      this.triggerEvent('disagree', { purpose });
    },

    /** The guide's name: opens the guide itself. */
    onOpenContract() {
      return privacy.openContract();
    },
  },
});
